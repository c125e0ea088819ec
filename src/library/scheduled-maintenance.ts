import type { Pool } from 'pg';
import type { CacheCore } from '../cache/cache-core';
import type { CacheLogger } from '../cache/cache-logger';
import { InvalidCacheRequestError } from '../cache/context-rules';
import { LeaseRepository } from '../cache/lease.repository';
import type { ScheduledJob } from '../metrics/maintenance-metrics.service';
import { MaintenanceJobParts, runScheduledJob } from '../maintenance/maintenance-jobs';
import { MaintenanceRunner, RunOutcome } from '../maintenance/maintenance-runner';
import { MaintenanceRunStore } from '../maintenance/maintenance-runs';

/** How often each job runs, in ms; 0: that job is not scheduled. */
export interface MaintenanceOptions {
  /** Deletes expired entries (after their stale grace) and abandoned leases; default hourly. */
  cleanupIntervalMs?: number;
  /** Evicts least recently used entries down to the cache's `maxEntries`; default hourly. */
  evictIntervalMs?: number;
  /** Refreshes the daily metrics view (exercise_cache_daily_metrics); default hourly. */
  refreshIntervalMs?: number;
}

type MaintenanceIntervals = Required<MaintenanceOptions>;

const HOUR_MS = 3_600_000;
export const DEFAULT_MAINTENANCE_INTERVALS: Readonly<MaintenanceIntervals> = Object.freeze({
  cleanupIntervalMs: HOUR_MS,
  evictIntervalMs: HOUR_MS,
  refreshIntervalMs: HOUR_MS,
});
const MIN_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 7 * 24 * HOUR_MS;
const JOB_OF: Record<keyof MaintenanceIntervals, ScheduledJob> = { cleanupIntervalMs: 'cleanup', evictIntervalMs: 'evict', refreshIntervalMs: 'refresh' };

/** The `maintenance` option checked: null when off (the default), the intervals when on. */
export function resolveMaintenanceOption(value: unknown): MaintenanceIntervals | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { ...DEFAULT_MAINTENANCE_INTERVALS };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidCacheRequestError('maintenance must be true, false or an object with cleanupIntervalMs, evictIntervalMs, refreshIntervalMs');
  }
  const given = value as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (name === 'maxEntries') throw new InvalidCacheRequestError('maintenance.maxEntries is not an option: eviction keeps the cache option maxEntries');
    if (!(name in DEFAULT_MAINTENANCE_INTERVALS)) throw new InvalidCacheRequestError(`maintenance.${name} is not an option of maintenance`);
  }
  const intervals = { ...DEFAULT_MAINTENANCE_INTERVALS };
  for (const name of Object.keys(intervals) as (keyof MaintenanceIntervals)[]) {
    const interval = given[name] ?? intervals[name];
    if (interval !== 0 && !(Number.isInteger(interval) && (interval as number) >= MIN_INTERVAL_MS && (interval as number) <= MAX_INTERVAL_MS)) {
      throw new InvalidCacheRequestError(`maintenance.${name} must be 0 (not scheduled) or an integer from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}`);
    }
    intervals[name] = interval as number;
  }
  return intervals;
}

/**
 * The package's scheduled maintenance: each job on its interval, once across every process that
 * shares the database. Ticks fall on multiples of the interval since the Unix epoch, so every
 * process names the same tick; the run takes the job's advisory lock and skips a tick that is
 * already in the run history (MaintenanceRunner, as the service's cron jobs do). Timers are
 * unref'd: they never keep a process alive.
 */
export class ScheduledMaintenance {
  private readonly runner: MaintenanceRunner;
  private readonly parts: MaintenanceJobParts;
  private readonly timers = new Map<ScheduledJob, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    core: CacheCore,
    pool: Pool,
    /** The eviction bound: the cache's maxEntries. */
    private readonly maxEntries: number,
    private readonly intervals: MaintenanceIntervals,
    logger: CacheLogger,
  ) {
    const runs = new MaintenanceRunStore(pool, core.sessionPool, core.names);
    this.runner = new MaintenanceRunner(runs, logger);
    this.parts = { cache: core.maintenance, leases: new LeaseRepository(pool, core.names), runs };
  }

  /** Names this process in the run history (exercise_cache_maintenance_runs.instance). */
  get instance(): string {
    return this.runner.instance;
  }

  start(): void {
    for (const [name, job] of Object.entries(JOB_OF) as [keyof MaintenanceIntervals, ScheduledJob][]) {
      if (this.intervals[name] > 0) this.scheduleNext(job, this.intervals[name]);
    }
  }

  /** No new ticks; resolves once a run under way has finished and recorded itself. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.runner.drain();
  }

  private scheduleNext(job: ScheduledJob, intervalMs: number): void {
    const tick = (Math.floor(Date.now() / intervalMs) + 1) * intervalMs;
    const timer = setTimeout(() => void this.runTick(job, intervalMs, tick), tick - Date.now());
    timer.unref();
    this.timers.set(job, timer);
  }

  private async runTick(job: ScheduledJob, intervalMs: number, tick: number): Promise<void> {
    this.timers.delete(job);
    if (this.stopped) return;
    // A timer may fire a millisecond early; the run must start at or after its tick, or another
    // process would not find it in the history.
    while (Date.now() < tick) await new Promise((resolve) => setTimeout(resolve, tick - Date.now()).unref());
    // stop() may have come during that wait: it found no run to wait for, so none may start now.
    if (this.stopped) return;
    // A tick that passes while this run is still going is dropped (as the service's cron jobs do).
    await this.runScheduled(job, new Date(tick));
    if (!this.stopped) this.scheduleNext(job, intervalMs);
  }

  /** Runs the job for the tick at `tick` (what the timer does), unless any process already ran that tick. */
  runScheduled(job: ScheduledJob, tick: Date): Promise<RunOutcome> {
    return this.runner.run(job, 'scheduled', () => runScheduledJob(job, this.parts, job === 'evict' ? this.maxEntries : undefined), tick);
  }
}
