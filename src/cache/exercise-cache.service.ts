import type { CachedEntry } from './cache-entry';
import type { CanonicalContext, ExerciseContext } from './cache-key';
import type { CacheInvalidationService } from './cache-invalidation.service';
import type { CacheMaintenanceService } from './cache-maintenance.service';
import type { CacheStatisticsService } from './cache-statistics.service';
import type { Exercise, GetOrGenerateOptions, LookupOptions, StoreOptions, StoredExercise } from './exercise-cache-options';
import type { ExerciseLookupService } from './exercise-lookup.service';
import type { ExerciseStoreService } from './exercise-store.service';
import type { GetOrGenerateService } from './get-or-generate.service';

export type { Exercise, GetOrGenerateOptions, LookupOptions, StoreOptions, StoredExercise } from './exercise-cache-options';
export { DEFAULT_GENERATE_ATTEMPTS, GenerateTimeoutError, MAX_GENERATE_ATTEMPTS } from './get-or-generate.service';

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

  get(context: ExerciseContext, options?: LookupOptions): Promise<Exercise | null> {
    return this.services.lookup.get(context, options);
  }

  lookup(context: ExerciseContext, options?: LookupOptions): Promise<CachedEntry | null> {
    return this.services.lookup.lookup(context, options);
  }

  getByKey(key: string): Promise<CachedEntry | null> {
    return this.services.lookup.getByKey(key);
  }

  findSimilar(context: ExerciseContext, limit?: number): Promise<CachedEntry[]> {
    return this.services.lookup.findSimilar(context, limit);
  }

  findByTopics(context: ExerciseContext, options?: { minOverlap?: number; limit?: number }): Promise<(CachedEntry & { overlap: number })[]> {
    return this.services.lookup.findByTopics(context, options);
  }

  validateStore(context: ExerciseContext, exercise: Exercise, options?: StoreOptions): StoredExercise {
    return this.services.store.validateStore(context, exercise, options);
  }

  set(context: ExerciseContext, exercise: Exercise, options?: StoreOptions): Promise<StoredExercise> {
    return this.services.store.set(context, exercise, options);
  }

  setVariant(context: ExerciseContext, variant: number, exercise: Exercise, options?: StoreOptions): Promise<StoredExercise> {
    return this.services.store.setVariant(context, variant, exercise, options);
  }

  getOrGenerate(context: ExerciseContext, generate: (context: CanonicalContext) => Promise<Exercise>, options?: GetOrGenerateOptions): Promise<Exercise> {
    return this.services.generation.getOrGenerate(context, generate, options);
  }

  invalidate(keyOrContext: string | ExerciseContext): Promise<number> {
    return this.services.invalidation.invalidate(keyOrContext);
  }

  invalidateNamespace(namespace: string): Promise<number> {
    return this.services.invalidation.invalidateNamespace(namespace);
  }

  retireOtherVersions(generatorVersion: string, namespace?: string): Promise<number> {
    return this.services.invalidation.retireOtherVersions(generatorVersion, namespace);
  }

  clear(): Promise<number> {
    return this.services.invalidation.clear();
  }

  stats(): Promise<Record<string, unknown>> {
    return this.services.statistics.stats();
  }

  statsByType(): Promise<Record<string, unknown>[]> {
    return this.services.statistics.statsByType();
  }

  statsByNamespace(): Promise<Record<string, unknown>[]> {
    return this.services.statistics.statsByNamespace();
  }

  statsByGeneratorVersion(): Promise<Record<string, unknown>[]> {
    return this.services.statistics.statsByGeneratorVersion();
  }

  popular(limit?: number): Promise<Record<string, unknown>[]> {
    return this.services.statistics.popular(limit);
  }

  leastRecentlyUsed(limit?: number): Promise<Record<string, unknown>[]> {
    return this.services.statistics.leastRecentlyUsed(limit);
  }

  dailyMetrics(days?: number): Promise<Record<string, unknown>[]> {
    return this.services.statistics.dailyMetrics(days);
  }

  cleanupExpired(): Promise<number> {
    return this.services.maintenance.cleanupExpired();
  }

  evictLeastRecentlyUsed(maxEntries?: number): Promise<number> {
    return this.services.maintenance.evictLeastRecentlyUsed(maxEntries);
  }

  refreshMetrics(): Promise<void> {
    return this.services.maintenance.refreshMetrics();
  }

  flushUsage(): Promise<void> {
    return this.services.maintenance.flushUsage();
  }
}
