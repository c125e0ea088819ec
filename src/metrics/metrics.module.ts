import { Global, Module } from '@nestjs/common';
import { CacheMetrics } from './cache-metrics.service';
import { MetricsRegistry } from './metrics-registry';

@Global()
@Module({
  providers: [MetricsRegistry, CacheMetrics],
  exports: [MetricsRegistry, CacheMetrics],
})
export class MetricsModule {}
