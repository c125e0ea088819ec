// The package entry `exercise-cache/nest`: ExerciseCacheModule for any Nest app (Express or Fastify).
export { ExerciseCacheModule } from './exercise-cache.module';
export type { ExerciseCacheModuleOptions } from './exercise-cache.module-definition';
export { ExerciseCacheService } from '../cache/exercise-cache.service';
export type { Exercise, GetOrGenerateOptions, LookupOptions, StoreOptions, StoredExercise } from '../cache/exercise-cache.service';
export type { ExerciseContext, CanonicalContext } from '../cache/cache-key';
export type { CachedEntry } from '../cache/cache-entry';
export { InvalidCacheRequestError } from '../cache/context-rules';
export { CacheNotMigratedError } from '../cache/cache-not-migrated.error';
