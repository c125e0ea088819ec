import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CacheModule } from '../cache/cache.module';
import { AppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/app-config.module';
import { DatabaseModule } from '../database/database.module';
import type { DatabaseHandle } from '../database/database-handle';
import { MaintenanceModule } from '../maintenance/maintenance.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ExerciseExporter } from './transfer/exercise-exporter';
import { ExerciseImporter } from './transfer/exercise-importer';

/**
 * The application's own modules without the HTTP side (no server, logging middleware, guards or
 * dashboard): the CLI runs the very services the API runs. Scheduled jobs are switched off in the
 * CLI's configuration, so ScheduleModule only serves MaintenanceService's manual runs.
 */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig, database: DatabaseHandle): DynamicModule {
    return {
      module: CliModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule.forRoot(database),
        MetricsModule,
        CacheModule,
        ScheduleModule.forRoot(),
        MaintenanceModule,
      ],
      providers: [ExerciseImporter, ExerciseExporter],
    };
  }
}
