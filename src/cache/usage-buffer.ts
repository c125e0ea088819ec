import { isStorageUnavailable } from '../common/storage-unavailable';
import type { CachedEntry, OutcomeCount, OutcomeGroup, UsageBatch } from './cache-entry';
import type { CacheHooks, LookupOutcome } from './cache-hooks';
import { CacheLogger, ScopedLogger, consoleCacheLogger, scopedLogger } from './cache-logger';
import type { CacheSettings } from './cache-settings';
import { ExerciseCacheRepository, UsageWriteInDoubt } from './exercise-cache.repository';
import { addOutcomeCounters } from './statistics-rows';
import { UsageRow, rowCount, rowsOf } from './usage-rows';

/**
 * Keeps the hit path free of writes: usage_count, last_used_at and hit/miss counts are added up
 * in memory and written in one statement every USAGE_FLUSH_INTERVAL_MS or USAGE_FLUSH_MAX_EVENTS
 * events, and at shutdown. A failed write (database down) keeps the batch for the next flush, so
 * counters are delayed, not lost; a crash loses at most the events since the last flush. A write
 * whose COMMIT went unanswered is held aside until the database says whether it committed, so a
 * batch is never counted twice either.
 *
 * A batch the database refuses for what it holds (a value it cannot store, a constraint) rather
 * than for being unavailable is written again row by row: only the rows it refuses are dropped
 * (logged, counted in exercise_cache_usage_rows_rejected_total), so one bad row never stops the
 * counting of every other. Memory is bounded: the buffer holds at most USAGE_BUFFER_MAX_ROWS
 * rows (cache keys plus day/type/difficulty/namespace/version outcomes); a lookup that would need a row beyond that
 * while the database cannot take the writes is not counted (exercise_cache_usage_events_dropped_total).
 *
 * The owner calls start() once, and stop() then flush() at shutdown while the pool is still open.
 */
export class UsageBuffer {
  private readonly logger: ScopedLogger;
  private batch: UsageBatch = emptyBatch();
  private events = 0;
  private resolving?: Promise<void>;
  private day = '';
  private dayStartsAt = 0;
  private dayEndsAt = 0;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private inDoubt?: { xid: string; batch: UsageBatch; events: number };
  /** Set while the buffer is full, so that being full is logged once, not once per lookup. */
  private full = false;

  constructor(
    private readonly repository: ExerciseCacheRepository,
    private readonly settings: Pick<CacheSettings, 'usageFlushIntervalMs' | 'usageFlushMaxEvents' | 'usageBufferMaxRows'>,
    private readonly metrics: CacheHooks = {},
    logger: CacheLogger = consoleCacheLogger,
  ) {
    this.logger = scopedLogger(logger, UsageBuffer.name);
    metrics.observeUsageBuffer?.(() => this.pending);
  }

  /** Starts the periodic flush. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), this.settings.usageFlushIntervalMs);
    this.timer.unref();
  }

  /** Stops the periodic flush; what is buffered stays until flush() is called. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Events waiting to be written, including a batch whose write is in doubt. */
  get pending(): number {
    return this.events + (this.inDoubt?.events ?? 0);
  }

  /** Uses of `key` not yet written; lets variant selection see recent uses. */
  pendingUses(key: string): number {
    return this.batch.usage.get(key)?.uses ?? 0;
  }

  /** A lookup that served `entry`: counted under the entry's type, difficulty, namespace and version. */
  recordHit(entry: CachedEntry, outcome: Exclude<LookupOutcome, 'miss'> = 'hit'): void {
    const now = new Date();
    if (this.nearlyFull() && !this.hasRoomFor((this.batch.usage.has(entry.key) ? 0 : 1) + this.newOutcomeRow(now, entry))) {
      this.metrics.lookup?.(entry.exerciseType, outcome, entry.generationCost);
      return;
    }
    const usage = this.batch.usage.get(entry.key);
    if (usage) {
      usage.uses += 1;
      usage.lastUsedAt = now;
    } else {
      this.batch.usage.set(entry.key, { uses: 1, lastUsedAt: now });
    }
    const counts = this.outcomeFor(now, entry);
    if (outcome === 'hit') counts.hits += 1;
    else if (outcome === 'near_hit') counts.nearHits += 1;
    else if (outcome === 'stale') counts.stale += 1;
    else counts.coalesced += 1;
    counts.costSaved += entry.generationCost;
    this.metrics.lookup?.(entry.exerciseType, outcome, entry.generationCost);
    this.countEventAndFlushIfDue();
  }

  /**
   * A lookup that served nothing: counted under its context's namespace and the version it asked
   * for. `generating`: the caller is about to generate and store an entry for it (trusted code,
   * not any client with a read key), so its names count even if no entry exists at the flush.
   */
  recordMiss(exerciseType: string, difficulty: number, namespace?: string, generatorVersion?: string, generating = false): void {
    const now = new Date();
    const group: OutcomeGroup = { exerciseType, difficulty, namespace, generatorVersion };
    if (this.nearlyFull() && !this.hasRoomFor(this.newOutcomeRow(now, group))) {
      this.metrics.lookup?.(exerciseType, 'miss');
      return;
    }
    const counts = this.outcomeFor(now, group);
    counts.misses += 1;
    if (generating) counts.generating = true;
    this.metrics.lookup?.(exerciseType, 'miss');
    this.countEventAndFlushIfDue();
  }

  /** The UTC day (YYYY-MM-DD) of `now`, formatted once per day rather than once per lookup. */
  private utcDay(now: Date): string {
    const time = now.getTime();
    if (time < this.dayStartsAt || time >= this.dayEndsAt) {
      this.dayStartsAt = time - (time % 86_400_000);
      this.dayEndsAt = this.dayStartsAt + 86_400_000;
      this.day = new Date(this.dayStartsAt).toISOString().slice(0, 10);
    }
    return this.day;
  }

  /**
   * Writes everything buffered so far; concurrent callers share one write, and its failure: a
   * caller that joins a write the database just failed gets that error at once instead of waiting
   * for a second attempt (a request flushing before reading statistics stays within one timeout).
   */
  async flush(): Promise<void> {
    for (;;) {
      while (this.flushing) await this.flushing;
      if (!this.inDoubt) break;
      await this.resolveInDoubt();
      if (!this.flushing) break; // another caller started a write meanwhile: wait for it first
    }
    if (rowCount(this.batch) === 0) return;
    const batch = this.batch;
    const events = this.events;
    this.batch = emptyBatch();
    this.events = 0;
    this.flushing = this.repository
      .writeUsage(batch)
      .then(() => {
        this.metrics.flushed?.(true);
        this.full = false;
      })
      .catch((error: Error) => {
        this.metrics.flushed?.(false);
        if (error instanceof UsageWriteInDoubt) {
          this.inDoubt = { xid: error.xid, batch, events };
          this.logger.warn(`${events} buffered usage events may or may not be written (${error.message}); will check before retrying`);
        } else if (worthRetrying(error)) {
          this.merge(batch, events);
          this.logger.warn(`could not write ${events} buffered usage events, will retry: ${error.message}`);
        } else {
          this.logger.warn(`the database refused a batch of ${events} usage events (${error.message}); writing it row by row`);
          return this.writeRowByRow(rowsOf(batch));
        }
        throw error;
      })
      .finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  /**
   * Writes rows one transaction each; drops only those the database refuses for what they hold.
   * When the database becomes unavailable (or a write's fate unknown) midway, the rows not yet
   * written go back to the buffer, as a failed batch does.
   */
  private async writeRowByRow(rows: UsageRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      try {
        await this.repository.writeUsage(row.batch);
      } catch (error) {
        if (error instanceof UsageWriteInDoubt || worthRetrying(error)) {
          const rest = error instanceof UsageWriteInDoubt ? rows.slice(i + 1) : rows.slice(i);
          if (error instanceof UsageWriteInDoubt) this.inDoubt = { xid: error.xid, batch: row.batch, events: row.events };
          for (const left of rest) this.merge(left.batch, left.events);
          throw error;
        }
        this.metrics.usageRowRejected?.();
        this.logger.error(`dropped the ${row.label} (${row.events} lookups): the database refused it: ${(error as Error).message}`);
      }
    }
  }

  /**
   * Whether the buffer can take `newRows` more rows. When it cannot, the lookup is not counted:
   * without a cap, a database refusing writes for hours would grow the buffer without bound.
   */
  private hasRoomFor(newRows: number): boolean {
    if (newRows === 0 || rowCount(this.batch) + newRows <= this.settings.usageBufferMaxRows) return true;
    this.metrics.usageEventDropped?.();
    if (!this.full) {
      this.full = true;
      this.logger.error(`usage buffer full (${this.settings.usageBufferMaxRows} rows unwritten): lookups needing a new row are not counted until a flush succeeds`);
    }
    return false;
  }

  /** A lookup adds at most two rows; below this the hot path skips the exact check. */
  private nearlyFull(): boolean {
    return rowCount(this.batch) + 2 > this.settings.usageBufferMaxRows;
  }

  private newOutcomeRow(now: Date, group: OutcomeGroup): number {
    return this.batch.outcomes.has(outcomeIdOf(this.utcDay(now), group)) ? 0 : 1;
  }

  /**
   * Settles a batch whose COMMIT went unanswered: dropped if it committed, put back for the next
   * write if it rolled back, kept aside while the database cannot tell yet (or cannot be reached).
   * txid_status() is null only for a transaction too old to tell (after billions of others); it is
   * then treated as written rather than risk counting the batch twice.
   */
  private resolveInDoubt(): Promise<void> {
    // One settlement at a time: two callers settling the same batch would both put it back.
    this.resolving ??= this.settleInDoubt().finally(() => (this.resolving = undefined));
    return this.resolving;
  }

  private async settleInDoubt(): Promise<void> {
    const doubt = this.inDoubt;
    if (!doubt) return;
    const status = await this.repository.transactionStatus(doubt.xid).catch(() => 'in progress' as const);
    if (status === 'in progress') return;
    this.inDoubt = undefined;
    if (status === 'aborted') this.merge(doubt.batch, doubt.events);
    this.logger.log(`usage write of transaction ${doubt.xid} ${status === 'aborted' ? 'rolled back; retrying it' : 'was committed'}`);
  }

  private countEventAndFlushIfDue(): void {
    this.events += 1;
    // One write at a time is started from here: while one is under way, events keep accumulating
    // for the next (a burst of lookups must not queue a flush call per event).
    if (this.events >= this.settings.usageFlushMaxEvents && !this.flushing) void this.flush().catch(() => undefined);
  }

  private outcomeFor(now: Date, group: OutcomeGroup): OutcomeCount {
    const day = this.utcDay(now);
    const id = outcomeIdOf(day, group);
    let counts = this.batch.outcomes.get(id);
    if (!counts) {
      counts = {
        day,
        exerciseType: group.exerciseType,
        difficulty: group.difficulty,
        namespace: group.namespace ?? '',
        generatorVersion: group.generatorVersion ?? '',
        hits: 0,
        nearHits: 0,
        stale: 0,
        coalesced: 0,
        misses: 0,
        costSaved: 0,
        generating: false,
      };
      this.batch.outcomes.set(id, counts);
    }
    return counts;
  }

  /** Puts a batch that could not be written back in front of what arrived meanwhile. */
  private merge(failed: UsageBatch, events: number): void {
    for (const [key, usage] of failed.usage) {
      const current = this.batch.usage.get(key);
      if (current) {
        current.uses += usage.uses;
        if (usage.lastUsedAt > current.lastUsedAt) current.lastUsedAt = usage.lastUsedAt;
      } else {
        this.batch.usage.set(key, usage);
      }
    }
    for (const [id, counts] of failed.outcomes) {
      const current = this.batch.outcomes.get(id);
      if (current) {
        addOutcomeCounters(current, counts);
        current.generating ||= counts.generating;
      } else {
        this.batch.outcomes.set(id, counts);
      }
    }
    this.events += events;
  }
}

/** Unavailable, or a deadlock or serialization failure with another writer: the same rows may succeed later. */
function worthRetrying(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return isStorageUnavailable(error) || code === '40001' || code === '40P01';
}

/**
 * The batch's key of one outcome row. Newlines separate the parts: no type, namespace or
 * generator version (printable ASCII) can contain one.
 */
function outcomeIdOf(day: string, group: OutcomeGroup): string {
  return `${day}\n${group.exerciseType}\n${group.difficulty}\n${group.namespace ?? ''}\n${group.generatorVersion ?? ''}`;
}

function emptyBatch(): UsageBatch {
  return { usage: new Map(), outcomes: new Map() };
}
