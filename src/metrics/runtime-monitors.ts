import { type PerformanceEntry, PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, Histogram, type Registry } from 'prom-client';

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * prom-client's event loop lag and GC duration metrics (same names, help and buckets), with
 * monitors that stop. prom-client's own versions enable an event loop delay histogram and a GC
 * observer that nothing can stop: every app instance left both running after close(), each
 * keeping that instance's modules in memory.
 */
export function startRuntimeMonitors(registry: Registry): { stop(): void } {
  const registers = [registry];
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const lagGauge = (suffix: string, help: string, aggregator: 'min' | 'max' | 'average') =>
    new Gauge({ name: `nodejs_eventloop_lag_${suffix}seconds`, help, registers, aggregator });
  const min = lagGauge('min_', 'The minimum recorded event loop delay.', 'min');
  const max = lagGauge('max_', 'The maximum recorded event loop delay.', 'max');
  const mean = lagGauge('mean_', 'The mean of the recorded event loop delays.', 'average');
  const stddev = lagGauge('stddev_', 'The standard deviation of the recorded event loop delays.', 'average');
  const p50 = lagGauge('p50_', 'The 50th percentile of the recorded event loop delays.', 'average');
  const p90 = lagGauge('p90_', 'The 90th percentile of the recorded event loop delays.', 'average');
  const p99 = lagGauge('p99_', 'The 99th percentile of the recorded event loop delays.', 'average');
  const lag: Gauge = new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers,
    aggregator: 'average',
    collect() {
      const start = process.hrtime.bigint();
      setImmediate(() => lag.set(Number(process.hrtime.bigint() - start) / 1e9));
      min.set(delay.min / 1e9);
      max.set(delay.max / 1e9);
      mean.set(delay.mean / 1e9);
      stddev.set(delay.stddev / 1e9);
      p50.set(delay.percentile(50) / 1e9);
      p90.set(delay.percentile(90) / 1e9);
      p99.set(delay.percentile(99) / 1e9);
      delay.reset();
    },
  });

  const gcDuration = new Histogram({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    registers,
  });
  const gcObserver = new PerformanceObserver((list) => {
    const entry = list.getEntries()[0];
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    gcDuration.observe({ kind: kind === undefined ? undefined : GC_KINDS[kind] }, entry.duration / 1000);
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  return {
    stop() {
      delay.disable();
      gcObserver.disconnect();
    },
  };
}
