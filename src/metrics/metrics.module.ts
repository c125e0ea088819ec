import { Global, Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { CacheGauges } from './cache-gauges.service';
import { CacheMetrics } from './cache-metrics.service';
import { HttpMetrics } from './http-metrics.service';
import { LeaseMetrics } from './lease-metrics.service';
import { MaintenanceMetrics } from './maintenance-metrics.service';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics-registry';

@Global()
@Module({
  imports: [CacheModule],
  controllers: [MetricsController],
  providers: [MetricsRegistry, CacheMetrics, MaintenanceMetrics, HttpMetrics, CacheGauges, LeaseMetrics],
  exports: [MetricsRegistry, CacheMetrics, MaintenanceMetrics, LeaseMetrics],
})
export class MetricsModule {}
