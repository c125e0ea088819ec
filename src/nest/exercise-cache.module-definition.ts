import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ExerciseCacheConfig } from '../library/exercise-cache-options';

/** Options of ExerciseCacheModule.forRoot(): the package's options, with `pool` or `databaseUrl`. */
export type ExerciseCacheModuleOptions = ExerciseCacheConfig;

export const {
  ConfigurableModuleClass: ConfigurableExerciseCacheModule,
  MODULE_OPTIONS_TOKEN: EXERCISE_CACHE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ExerciseCacheModuleOptions>({ moduleName: 'ExerciseCache' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
