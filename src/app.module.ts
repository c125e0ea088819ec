import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CacheModule } from './cache/cache.module';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/app-config.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { DatabaseModule } from './database/database.module';
import type { DatabaseHandle } from './database/database-handle';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { MetricsModule } from './metrics/metrics.module';
import { QualityModule } from './quality/quality.module';
import { SecurityModule } from './security/security.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, database: DatabaseHandle): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        DatabaseModule.forRoot(database),
        MetricsModule,
        CacheModule,
        QualityModule,
        ScheduleModule.forRoot(),
        MaintenanceModule,
        HealthModule,
        SecurityModule,
        DashboardModule,
      ],
    };
  }
}
