// Public surface for other Nest modules and for clients that precompute keys.
export { CacheModule } from './cache.module';
export { ExerciseCacheService } from './exercise-cache.service';
export type { Exercise, GetOrGenerateOptions, LookupOptions, StoreOptions, StoredExercise } from './exercise-cache.service';
export { cacheKeyFor, contextKeyFor, normalizeTopics, encodeContext, CACHE_KEY_VERSION } from './cache-key';
export type { ExerciseContext, CanonicalContext } from './cache-key';
export type { CachedEntry } from './cache-entry';
