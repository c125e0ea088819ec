import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { MaintenanceController } from './maintenance.controller';
import { MaintenanceRepository } from './maintenance.repository';
import { MaintenanceService } from './maintenance.service';

/** Scheduled and manual maintenance; needs ScheduleModule.forRoot() in the application. */
@Module({
  imports: [CacheModule],
  controllers: [MaintenanceController],
  providers: [MaintenanceRepository, MaintenanceService],
  exports: [MaintenanceRepository],
})
export class MaintenanceModule {}
