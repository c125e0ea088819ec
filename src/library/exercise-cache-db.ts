import type { CachedEntry } from '../cache/cache-entry';
import type { CanonicalContext, ExerciseContext } from '../cache/cache-key';
import type { CacheCore } from '../cache/cache-core';
import type { OverviewStats, TypeStats } from '../cache/cache-statistics.repository';
import type { Exercise, GetOrGenerateOptions, LookupOptions, StoreOptions, StoredExercise } from '../cache/exercise-cache-options';
import type { OpenedExerciseCache } from './open-exercise-cache';

/**
 * What createExerciseCacheDB() and createExerciseCache() return: the guide's `get(context)` /
 * `set(context, exercise)` and the rest of the cache, each handed to the core's narrow service. Every
 * call first waits for start-up (the LISTEN session that keeps L1 coherent across processes), so
 * creating the cache stays synchronous as in the guide. close() flushes the buffered counters
 * and stops what the cache started; it never ends a pool you passed in.
 */
export class ExerciseCacheDB {
  private readonly ready: Promise<void>;
  private readonly core: CacheCore;

  constructor(private readonly opened: OpenedExerciseCache) {
    this.core = opened.core;
    this.ready = opened.start();
  }

  /** The cached exercise for a context, or null (a miss: generate it and set() it). */
  async get(context: ExerciseContext, options?: LookupOptions): Promise<Exercise | null> {
    await this.ready;
    return this.core.lookup.get(context, options);
  }

  /** Stores an exercise for a context (with variants > 1, as a new variant while the bucket has room). */
  async set(context: ExerciseContext, exercise: Exercise, options?: StoreOptions): Promise<StoredExercise> {
    await this.ready;
    return this.core.store.set(context, exercise, options);
  }

  /**
   * The guide's pattern in one call: the cached exercise, or generate() once (however many callers
   * in this process or in others miss the same key at once), store it and return it.
   */
  async getOrGenerate(
    context: ExerciseContext,
    generate: (context: CanonicalContext) => Promise<Exercise>,
    options?: GetOrGenerateOptions,
  ): Promise<Exercise> {
    await this.ready;
    return this.core.generation.getOrGenerate(context, generate, options);
  }

  /** Like get(), with the entry's key, timestamps and usage. */
  async lookup(context: ExerciseContext, options?: LookupOptions): Promise<CachedEntry | null> {
    await this.ready;
    return this.core.lookup.lookup(context, options);
  }

  /** The live entry with this cache key, or null. */
  async getByKey(key: string): Promise<CachedEntry | null> {
    await this.ready;
    return this.core.lookup.getByKey(key);
  }

  /** Removes one entry by key, or every variant of a context; resolves to how many were removed. */
  async invalidate(keyOrContext: string | ExerciseContext): Promise<number> {
    await this.ready;
    return this.core.invalidation.invalidate(keyOrContext);
  }

  /** Removes every entry. */
  async clear(): Promise<number> {
    await this.ready;
    return this.core.invalidation.clear();
  }

  /** Overall statistics (the exercise_cache_overview view), including this process's unflushed lookups. */
  async stats(): Promise<OverviewStats> {
    await this.ready;
    return this.core.statistics.stats();
  }

  async statsByType(): Promise<TypeStats[]> {
    await this.ready;
    return this.core.statistics.statsByType();
  }

  /** Live entries with the same difficulty and topics, of any type. */
  async findSimilar(context: ExerciseContext, limit?: number): Promise<CachedEntry[]> {
    await this.ready;
    return this.core.lookup.findSimilar(context, limit);
  }

  /** Live entries of the same type and difficulty whose topics overlap. */
  async findByTopics(context: ExerciseContext, options?: { minOverlap?: number; limit?: number }): Promise<(CachedEntry & { overlap: number })[]> {
    await this.ready;
    return this.core.lookup.findByTopics(context, options);
  }

  /** Deletes expired entries (what the scheduled cleanup runs). */
  async cleanupExpired(): Promise<number> {
    await this.ready;
    return this.core.maintenance.cleanupExpired();
  }

  /** Evicts least recently used entries down to maxEntries (default: the maxEntries option). */
  async evictLeastRecentlyUsed(maxEntries?: number): Promise<number> {
    await this.ready;
    return this.core.maintenance.evictLeastRecentlyUsed(maxEntries);
  }

  /** Refreshes the daily metrics view; returns its rows. */
  async refreshMetrics(): Promise<number> {
    await this.ready;
    return this.core.maintenance.refreshMetrics();
  }

  /** Writes buffered usage and hit/miss counters now. */
  async flushUsage(): Promise<void> {
    await this.ready;
    return this.core.maintenance.flushUsage();
  }

  /** Flushes counters, stops timers, the LISTEN session and pools the cache opened. Idempotent. */
  close(): Promise<void> {
    return this.opened.close();
  }
}
