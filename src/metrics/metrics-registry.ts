import type { OnApplicationShutdown } from '@nestjs/common';
import { Registry } from 'prom-client';
import { startRuntimeMonitors } from './runtime-monitors';

// prom-client's default metrics one by one (collectDefaultMetrics has no way to leave any out),
// without eventLoopLag and gc: startRuntimeMonitors provides those with monitors that stop. The
// paths are prom-client 15's files (the version is pinned; it has no exports map).
const processMetrics: Array<(registry: Registry) => void> = [
  require('prom-client/lib/metrics/processCpuTotal'),
  require('prom-client/lib/metrics/processStartTime'),
  require('prom-client/lib/metrics/osMemoryHeap'),
  require('prom-client/lib/metrics/processOpenFileDescriptors'),
  require('prom-client/lib/metrics/processMaxFileDescriptors'),
  require('prom-client/lib/metrics/processResources'),
  require('prom-client/lib/metrics/processHandles'),
  require('prom-client/lib/metrics/processRequests'),
  require('prom-client/lib/metrics/heapSizeAndUsed'),
  require('prom-client/lib/metrics/heapSpacesSizeAndUsed'),
  require('prom-client/lib/metrics/version'),
];

/**
 * One Prometheus registry per application instance (not prom-client's global one), so two
 * instances in one process, as in the tests, never clash over metric names. Its runtime monitors
 * stop when the app closes.
 */
export class MetricsRegistry extends Registry implements OnApplicationShutdown {
  private readonly runtimeMonitors: { stop(): void };

  constructor() {
    super();
    for (const collect of processMetrics) collect(this);
    this.runtimeMonitors = startRuntimeMonitors(this);
  }

  onApplicationShutdown(): void {
    this.runtimeMonitors.stop();
  }
}
