import type { CacheHooks } from './cache-hooks';
import type { ScopedLogger } from './cache-logger';
import type { LeaseRepository } from './lease.repository';

/** The slot a stale answer came from: what a refresh regenerates. */
export interface StaleSlot {
  key: string;
  contextKey: string;
  variant: number;
  exerciseType: string;
}

export type RefreshOutcome = 'refreshed' | 'failed' | 'skipped';

/**
 * Stale-while-revalidate's background regeneration (RFC 5861): at most one refresh per slot,
 * in this process (a map of running refreshes) and across replicas and HTTP callers (the slot's
 * lease in exercise_cache_leases, the same row a lease lookup takes). A refresh never rejects:
 * failures are logged and counted. close() lets no new refresh start and waits for those running.
 */
export class BackgroundRefresher {
  private readonly running = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly leases: LeaseRepository,
    private readonly hooks: CacheHooks,
    private readonly logger: ScopedLogger,
  ) {}

  /**
   * Starts refreshing `slot` unless a refresh of it runs here already, or another caller holds
   * its lease. `refresh` returns false when it found nothing to do (the slot was fresh again).
   */
  start(slot: StaleSlot, leaseSeconds: number, refresh: () => Promise<boolean>): void {
    if (this.closed || this.running.has(slot.key)) return;
    const run = this.runUnderLease(slot, leaseSeconds, refresh)
      .then((outcome) => this.hooks.backgroundRefresh?.(outcome))
      .catch((error: Error) => {
        this.hooks.backgroundRefresh?.('failed');
        this.logger.warn(`background refresh of a stale ${slot.exerciseType} exercise (key ${slot.key.slice(0, 12)}) failed; the stale one keeps answering: ${error.message}`);
      })
      .finally(() => this.running.delete(slot.key));
    this.running.set(slot.key, run);
  }

  /** Refreshes running in this process. */
  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Lets no new refresh start and waits for the running ones, at most `waitMs`: a generator that
   * never returns must not hold shutdown up for ever (such refreshes are abandoned, and logged).
   */
  async close(waitMs: number): Promise<void> {
    this.closed = true;
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), waitMs)));
    const done = Promise.all([...this.running.values()]).then(() => false);
    if (await Promise.race([done, gaveUp])) this.logger.warn(`${this.running.size} background refreshes still running at close were abandoned`);
    clearTimeout(timer);
  }

  private async runUnderLease(slot: StaleSlot, leaseSeconds: number, refresh: () => Promise<boolean>): Promise<RefreshOutcome> {
    const attempt = await this.leases.acquire(slot.key, slot.contextKey, slot.variant, leaseSeconds);
    if (!attempt.granted) return 'skipped';
    try {
      return (await refresh()) ? 'refreshed' : 'skipped';
    } finally {
      await this.leases.release(attempt.token).catch(() => undefined);
    }
  }
}
