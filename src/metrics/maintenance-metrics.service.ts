import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

/** The scheduled maintenance jobs; also values of the `job` label. */
export const MAINTENANCE_JOBS = ['cleanup', 'evict', 'refresh'] as const;
export type ScheduledJob = (typeof MAINTENANCE_JOBS)[number];
/** Every job a run can be recorded for: the scheduled ones and those run only on demand (retire). */
export const ALL_MAINTENANCE_JOBS = [...MAINTENANCE_JOBS, 'retire'] as const;
export type MaintenanceJob = (typeof ALL_MAINTENANCE_JOBS)[number];

/** What the maintenance jobs report to /metrics, labelled by job. */
@Injectable()
export class MaintenanceMetrics {
  private readonly duration: Histogram<'job'>;
  private readonly lastSuccess: Gauge<'job'>;
  private readonly failures: Counter<'job'>;
  private readonly skipped: Counter<'job'>;

  constructor(registry: MetricsRegistry) {
    const registers = [registry];
    this.duration = new Histogram({
      name: 'exercise_cache_maintenance_duration_seconds',
      help: 'Duration of maintenance runs that this replica executed (ok or failed), by job',
      labelNames: ['job'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'exercise_cache_maintenance_last_success_timestamp_seconds',
      help: 'Unix time at which the last successful run of the job on this replica finished',
      labelNames: ['job'],
      registers,
    });
    this.failures = new Counter({
      name: 'exercise_cache_maintenance_failures_total',
      help: 'Maintenance runs that failed on this replica, by job',
      labelNames: ['job'],
      registers,
    });
    this.skipped = new Counter({
      name: 'exercise_cache_maintenance_skipped_total',
      help: 'Maintenance runs skipped because another replica held the job or had already run the scheduled tick, by job',
      labelNames: ['job'],
      registers,
    });
    // Zero series from the start, so rate() and alerts see every job before its first failure.
    for (const job of MAINTENANCE_JOBS) {
      this.failures.inc({ job }, 0);
      this.skipped.inc({ job }, 0);
    }
  }

  succeeded(job: MaintenanceJob, seconds: number): void {
    this.duration.observe({ job }, seconds);
    this.lastSuccess.set({ job }, Date.now() / 1000);
  }

  failed(job: MaintenanceJob, seconds: number): void {
    this.duration.observe({ job }, seconds);
    this.failures.inc({ job });
  }

  skip(job: MaintenanceJob): void {
    this.skipped.inc({ job });
  }
}
