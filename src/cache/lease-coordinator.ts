import { ExerciseContext, keyOfCanonical } from './cache-key';
import { CachedEntry, isOfVersion, isStale } from './cache-entry';
import type { CanonicalContext } from './cache-key';
import type { Exercise, LookupOptions, StoreOptions, StoredExercise } from './exercise-cache-options';
import type { ExerciseLookupService } from './exercise-lookup.service';
import type { ExerciseStoreService } from './exercise-store.service';
import type { InvalidationBus } from './invalidation-bus';
import type { LeaseRepository } from './lease.repository';
import { LeaseWaiters } from './lease-waiters';

export const MIN_LEASE_SECONDS = 1;
export const MAX_LEASE_SECONDS = 300;
export const MAX_LEASE_WAIT_MS = 30000;
export const LEASE_TOKEN_PATTERN = /^[0-9a-f]{32}$/;

export type LeaseOutcome = 'granted' | 'waited' | 'coalesced' | 'timed_out' | 'conflict';

/** What a lease lookup ended with. */
export type LeaseLookup =
  /** Found at once: an ordinary hit, no lease work done. */
  | { outcome: 'hit'; entry: CachedEntry }
  /** Stored by another caller's lease while this one waited. */
  | { outcome: 'coalesced'; entry: CachedEntry }
  /**
   * An expired entry within its stale-while-revalidate window: served at once. `token` when this
   * caller got the slot's lease and should regenerate and store with it (one caller at a time).
   */
  | { outcome: 'stale'; entry: CachedEntry; token?: string }
  /** A miss: this caller holds the lease and should generate and store with `token`. */
  | { outcome: 'granted'; key: string; token: string }
  /** A miss: another caller holds the lease and nothing was stored within the wait. */
  | { outcome: 'timed_out'; key: string; retryAfterSeconds: number };

/** The token is unknown: its lease expired and went to another caller (or it never existed). */
export class LeaseConflictError extends Error {
  override readonly name = 'LeaseConflictError';
}

/**
 * Memcache leases ("Scaling Memcache at Facebook", NSDI 2013) over the shared database: on a miss,
 * exactly one caller per (context, variant slot) across every replica gets a token and generates;
 * the others wait until its store wakes them (LISTEN/NOTIFY through the invalidation bus), each
 * re-checking the slot once per wake-up, and take the lease over if it expires first.
 */
export class LeaseCoordinator {
  private readonly waiters = new LeaseWaiters();

  constructor(
    private readonly lookups: ExerciseLookupService,
    private readonly exercises: ExerciseStoreService,
    private readonly leases: LeaseRepository,
    private readonly bus: InvalidationBus,
    private readonly count: (outcome: LeaseOutcome) => void = () => undefined,
  ) {
    bus.onKeysChanged((keys) => this.waiters.wake(keys));
  }

  /** Callers waiting on this replica right now. */
  get waiting(): number {
    return this.waiters.size;
  }

  async lookup(context: ExerciseContext, options: LookupOptions, lease: { seconds: number; waitMs: number }): Promise<LeaseLookup> {
    const { entry, canonical, bucket, exclude, version } = await this.lookups.peek(context, options);
    if (entry && isStale(entry)) {
      const served = this.lookups.recordLookup({ canonical, version }, entry) ?? entry;
      const attempt = await this.leases.acquire(entry.key, entry.contextKey, entry.variant, lease.seconds);
      if (!attempt.granted) return { outcome: 'stale', entry: served };
      this.count('granted');
      return { outcome: 'stale', entry: served, token: attempt.token };
    }
    if (entry) {
      return { outcome: 'hit', entry: this.lookups.recordLookup({ canonical, version }, entry) ?? entry };
    }
    const slot = await this.lookups.slotForMiss(canonical, bucket, exclude, version);
    const key = keyOfCanonical(canonical, slot);
    const servable = async () => {
      const stored = await this.lookups.findLive(key);
      return stored && !exclude.has(stored.key) && isOfVersion(stored, version) ? stored : null;
    };
    const deadline = Date.now() + lease.waitMs;
    const waiter = this.waiters.register(key);
    if (lease.waitMs > 0) await this.bus.ensureListening();
    let holderExpiresInMs = 0;
    let waited = false;
    try {
      for (;;) {
        const attempt = await this.leases.acquire(key, keyOfCanonical(canonical, 1), slot, lease.seconds);
        if (attempt.granted) {
          // The previous holder may have stored and released between our lookup and our lease.
          const stored = await servable();
          if (stored) {
            await this.leases.release(attempt.token);
            // Whoever started waiting on this short-lived lease is told at once, not at its expiry.
            await this.bus.publish({ keys: [key] }).catch(() => undefined);
            return this.coalesced(canonical, stored);
          }
          // The holder (a read-write key, trusted to store) generates next: counted under its own names.
          this.lookups.recordMiss({ canonical, version }, true);
          this.count('granted');
          return { outcome: 'granted', key, token: attempt.token };
        }
        holderExpiresInMs = attempt.holderExpiresInMs ?? 0;
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        if (!waited) this.count('waited');
        waited = true;
        // Woken by a store of this key, or at the end of the wait or of the holder's lease.
        await waiter.next(Math.min(remaining, holderExpiresInMs));
        if (this.waiters.isClosed) break;
        const stored = await servable();
        if (stored) return this.coalesced(canonical, stored);
        if (Date.now() >= deadline) break;
      }
    } finally {
      waiter.dispose();
    }
    this.lookups.recordMiss({ canonical, version });
    this.count('timed_out');
    const retryAfterSeconds = this.waiters.isClosed ? 1 : Math.max(1, Math.ceil(holderExpiresInMs / 1000));
    return { outcome: 'timed_out', key, retryAfterSeconds };
  }

  /**
   * At shutdown: every waiting caller is answered at once (404 with Retry-After: 1, to ask another
   * replica), so long waits never hold up draining. Nest calls it as a lifecycle hook.
   */
  onModuleDestroy(): void {
    this.waiters.close();
  }

  /**
   * The lease holder's store: checks the token and writes its slot in one transaction, then ends
   * the lease (waiters are woken by the write's notification). An unknown token stores nothing.
   */
  async store(token: string, context: ExerciseContext, exercise: Exercise, options: StoreOptions): Promise<StoredExercise> {
    try {
      return await this.exercises.storeClaimed(context, exercise, options, async (transaction, contextKey) => {
        const claimed = await this.leases.claim(token, transaction);
        if (!claimed) throw new LeaseConflictError('lease expired and was given to another caller (or never existed): nothing stored');
        if (claimed.contextKey !== contextKey) throw new LeaseConflictError('this lease was granted for another context: nothing stored');
        return claimed.variant;
      });
    } catch (error) {
      if (error instanceof LeaseConflictError) this.count('conflict');
      throw error;
    }
  }

  /** The exercise another caller stored under its lease, waited for: counted as coalesced (not an exact hit). */
  private coalesced(canonical: CanonicalContext, entry: CachedEntry): LeaseLookup {
    const served = this.lookups.recordLookup({ canonical }, entry, 'coalesced') ?? entry;
    this.count('coalesced');
    return { outcome: 'coalesced', entry: served };
  }
}
