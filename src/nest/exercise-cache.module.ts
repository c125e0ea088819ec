import { Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ExerciseCacheRepository } from '../cache/exercise-cache.repository';
import { ExerciseCacheService } from '../cache/exercise-cache.service';
import { GenerationLock } from '../cache/generation-lock';
import { InvalidationBus } from '../cache/invalidation-bus';
import { L1Cache } from '../cache/l1-cache';
import { UsageBuffer } from '../cache/usage-buffer';
import { VariantPicker } from '../cache/variant-picker';
import { OpenedExerciseCache, openExerciseCache } from '../library/open-exercise-cache';
import { ConfigurableExerciseCacheModule, EXERCISE_CACHE_MODULE_OPTIONS, ExerciseCacheModuleOptions } from './exercise-cache.module-definition';
import { nestCacheLogger } from './nest-cache-logger';

/** The running cache behind the module's providers. */
export const OPENED_EXERCISE_CACHE = Symbol('OPENED_EXERCISE_CACHE');

/** Starts the cache with the host app and closes it with the app (counters flushed, sessions ended). */
@Injectable()
class ExerciseCacheLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(OPENED_EXERCISE_CACHE) private readonly cache: OpenedExerciseCache) {}

  onModuleInit(): Promise<void> {
    return this.cache.start();
  }

  /**
   * At application shutdown, after the HTTP server stopped taking requests, so hits of the last
   * requests are written too; a non-global module shuts down before the global ones that usually
   * own the database pool.
   */
  onApplicationShutdown(): Promise<void> {
    return this.cache.close();
  }
}

/** One part of the core as a provider of its own (tests and the HTTP service reach them by class). */
const part = <T>(token: abstract new (...args: never[]) => T, pick: (cache: OpenedExerciseCache) => T) => ({
  provide: token,
  useFactory: pick,
  inject: [OPENED_EXERCISE_CACHE],
});

/**
 * The exercise cache for any Nest app, Express or Fastify: `ExerciseCacheModule.forRoot({ pool })`
 * or `forRootAsync({ imports, inject, useFactory })`, `isGlobal` to inject it everywhere. Provides
 * ExerciseCacheService and nothing else: no routes, no global guards, pipes, filters or hooks; the
 * service validates its own input.
 */
@Module({
  providers: [
    {
      provide: OPENED_EXERCISE_CACHE,
      useFactory: (options: ExerciseCacheModuleOptions) => openExerciseCache(options, nestCacheLogger()),
      inject: [EXERCISE_CACHE_MODULE_OPTIONS],
    },
    part(ExerciseCacheService, (cache) => cache.core.service),
    part(ExerciseCacheRepository, (cache) => cache.core.repository),
    part(L1Cache, (cache) => cache.core.l1),
    part(UsageBuffer, (cache) => cache.core.usage),
    part(InvalidationBus, (cache) => cache.core.bus),
    part(GenerationLock, (cache) => cache.core.lock),
    part(VariantPicker, (cache) => cache.core.variants),
    ExerciseCacheLifecycle,
  ],
  exports: [ExerciseCacheService, OPENED_EXERCISE_CACHE],
})
export class ExerciseCacheModule extends ConfigurableExerciseCacheModule {}
