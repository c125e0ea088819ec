import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '../auth/auth.module';
import { CacheModule } from '../cache/cache.module';
import { MaintenanceModule } from '../maintenance/maintenance.module';
import { CacheHealthIndicators } from './cache-health.indicators';
import { HealthController } from './health.controller';
import { HealthRepository } from './health.repository';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), CacheModule, MaintenanceModule, AuthModule],
  controllers: [HealthController],
  providers: [HealthRepository, CacheHealthIndicators],
})
export class HealthModule {}
