import type { Pool } from 'pg';
import { InvalidCacheRequestError } from '../cache/context-rules';
import { ExerciseCacheDB } from './exercise-cache-db';
import type { ExerciseCacheConfig, ExerciseCacheOptions } from './exercise-cache-options';
import { openExerciseCache } from './open-exercise-cache';

/**
 * The seed guide's entry point: the cache on your `pg` Pool.
 *
 *   const cache = createExerciseCacheDB(pool);
 *   let exercise = await cache.get(context);
 *   if (!exercise) { exercise = await aiGenerator.generate(context); await cache.set(context, exercise); }
 *
 * The pool stays yours: close() flushes the cache's counters and stops what it started, never
 * ends the pool. Apply the migrations once first (`npx exercise-cache migrate` or migrate()).
 */
export function createExerciseCacheDB(pool: Pool, options: ExerciseCacheOptions = {}): ExerciseCacheDB {
  if (options && typeof options === 'object' && ('pool' in options || 'databaseUrl' in options)) {
    throw new InvalidCacheRequestError('options must not hold pool or databaseUrl: the pool is the first argument');
  }
  return new ExerciseCacheDB(openExerciseCache({ ...options, pool }));
}

/**
 * The cache for callers without a pool of their own: `createExerciseCache({ databaseUrl })`
 * opens one (ended by close()); `createExerciseCache({ pool })` is createExerciseCacheDB(pool).
 */
export function createExerciseCache(config: ExerciseCacheConfig): ExerciseCacheDB {
  return new ExerciseCacheDB(openExerciseCache(config));
}
