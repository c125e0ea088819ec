import type { CachedEntry } from './cache-entry';
import type { CanonicalContext, ExerciseContext } from './cache-key';
import type { CacheInvalidationService } from './cache-invalidation.service';
import type { CacheMaintenanceService } from './cache-maintenance.service';
import type { DailyMetrics, EntrySummary, OverviewStats, TypeStats } from './cache-statistics.repository';
import type { CacheStatisticsService } from './cache-statistics.service';
import type { Exercise, GetOrGenerateOptions, LookupOptions, StoreOptions, StoredExercise } from './exercise-cache-options';
import type { ExerciseLookupService } from './exercise-lookup.service';
import type { ExerciseStoreService } from './exercise-store.service';
import type { GetOrGenerateService } from './get-or-generate.service';
import type { FilteredOverviewStats, GroupStats, StatsFilter } from './statistics-rows';

export type { Exercise, GetOrGenerateOptions, LookupOptions, StoreOptions, StoredExercise } from './exercise-cache-options';
export { DEFAULT_GENERATE_ATTEMPTS, GenerateTimeoutError, MAX_GENERATE_ATTEMPTS, NotCachedError } from './get-or-generate.service';

/** The narrow services the whole cache is made of; CacheCore (cache-core.ts) builds them. */
export interface ExerciseCacheServices {
  lookup: ExerciseLookupService;
  store: ExerciseStoreService;
  generation: GetOrGenerateService;
  statistics: CacheStatisticsService;
  invalidation: CacheInvalidationService;
  maintenance: CacheMaintenanceService;
}

/**
 * The whole cache behind one class, as the package's users inject it (`exercise-cache/nest`):
 * every method hands over to the narrow service that does the work. Code in this repository
 * injects those services directly.
 */
export class ExerciseCacheService {
  constructor(private readonly services: ExerciseCacheServices) {}

  /** The cached exercise for a context, or null (the lookup counts as a miss). */
  get(context: ExerciseContext, options?: LookupOptions): Promise<Exercise | null> {
    return this.services.lookup.get(context, options);
  }

  /** Like get(), with the entry's key, timestamps and usage. */
  lookup(context: ExerciseContext, options?: LookupOptions): Promise<CachedEntry | null> {
    return this.services.lookup.lookup(context, options);
  }

  /** The live entry with this cache key, or null. */
  getByKey(key: string): Promise<CachedEntry | null> {
    return this.services.lookup.getByKey(key);
  }

  /** Live entries with the same difficulty and topics, of any type. */
  findSimilar(context: ExerciseContext, limit?: number): Promise<CachedEntry[]> {
    return this.services.lookup.findSimilar(context, limit);
  }

  /** Near misses: live entries of the same type and difficulty whose topics overlap. */
  findByTopics(context: ExerciseContext, options?: { minOverlap?: number; limit?: number }): Promise<(CachedEntry & { overlap: number })[]> {
    return this.services.lookup.findByTopics(context, options);
  }

  /** Every check set() makes, without storing: the key it would get (variant 1) and its expiry. */
  validateStore(context: ExerciseContext, exercise: Exercise, options?: StoreOptions): StoredExercise {
    return this.services.store.validateStore(context, exercise, options);
  }

  /** Stores an exercise; with variants > 1 as a new variant while the bucket has room. */
  set(context: ExerciseContext, exercise: Exercise, options?: StoreOptions): Promise<StoredExercise> {
    return this.services.store.set(context, exercise, options);
  }

  /** Stores an exercise as exactly this variant of its context, replacing what that slot held. */
  setVariant(context: ExerciseContext, variant: number, exercise: Exercise, options?: StoreOptions): Promise<StoredExercise> {
    return this.services.store.setVariant(context, variant, exercise, options);
  }

  /** The cached exercise, or generate() once across callers and replicas, store it and return it. */
  getOrGenerate(context: ExerciseContext, generate: (context: CanonicalContext) => Promise<Exercise>, options?: GetOrGenerateOptions): Promise<Exercise> {
    return this.services.generation.getOrGenerate(context, generate, options);
  }

  /** Removes one entry by key, or every variant of a context; resolves to how many. */
  invalidate(keyOrContext: string | ExerciseContext): Promise<number> {
    return this.services.invalidation.invalidate(keyOrContext);
  }

  /** Removes every entry of one namespace; resolves to how many. */
  invalidateNamespace(namespace: string): Promise<number> {
    return this.services.invalidation.invalidateNamespace(namespace);
  }

  /** Removes every entry not written with this generator version (in one namespace when given). */
  retireOtherVersions(generatorVersion: string, namespace?: string): Promise<number> {
    return this.services.invalidation.retireOtherVersions(generatorVersion, namespace);
  }

  /** Removes every entry. */
  clear(): Promise<number> {
    return this.services.invalidation.clear();
  }

  /** Overall statistics (exercise_cache_overview), including this replica's unflushed lookups. */
  stats(): Promise<OverviewStats> {
    return this.services.statistics.stats();
  }

  /** Statistics per exercise type. */
  statsByType(): Promise<TypeStats[]> {
    return this.services.statistics.statsByType();
  }

  /** Entries and lookup outcomes per namespace, optionally within one generator version. */
  statsByNamespace(filter?: StatsFilter): Promise<GroupStats[]> {
    return this.services.statistics.statsByNamespace(filter);
  }

  /** Entries and lookup outcomes per generator version, optionally within one namespace. */
  statsByGeneratorVersion(filter?: StatsFilter): Promise<GroupStats[]> {
    return this.services.statistics.statsByGeneratorVersion(filter);
  }

  /** Entries and lookup outcomes of one namespace and/or generator version. */
  statsOf(filter: StatsFilter): Promise<FilteredOverviewStats> {
    return this.services.statistics.statsOf(filter);
  }

  /** The most used live entries. */
  popular(limit?: number): Promise<EntrySummary[]> {
    return this.services.statistics.popular(limit);
  }

  /** The live entries used longest ago. */
  leastRecentlyUsed(limit?: number): Promise<EntrySummary[]> {
    return this.services.statistics.leastRecentlyUsed(limit);
  }

  /** Rows of exercise_cache_daily_metrics for the last `days` UTC days. */
  dailyMetrics(days?: number): Promise<DailyMetrics[]> {
    return this.services.statistics.dailyMetrics(days);
  }

  /** Deletes expired entries whose stale grace has passed. */
  cleanupExpired(): Promise<number> {
    return this.services.maintenance.cleanupExpired();
  }

  /** Evicts least recently used entries down to maxEntries (default: the setting). */
  evictLeastRecentlyUsed(maxEntries?: number): Promise<number> {
    return this.services.maintenance.evictLeastRecentlyUsed(maxEntries);
  }

  /** Refreshes the daily metrics view; returns its rows. */
  refreshMetrics(): Promise<number> {
    return this.services.maintenance.refreshMetrics();
  }

  /** Writes buffered usage and hit/miss counters now. */
  flushUsage(): Promise<void> {
    return this.services.maintenance.flushUsage();
  }
}
