import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { LeaseRepository } from '../cache/lease.repository';
import { CacheInvalidationService } from '../cache/cache-invalidation.service';
import { CacheMaintenanceService } from '../cache/cache-maintenance.service';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { MAINTENANCE_JOBS, MaintenanceJob, MaintenanceMetrics, ScheduledJob } from '../metrics/maintenance-metrics.service';
import { JobAlreadyRunningError } from './job-already-running.error';
import { MaintenanceRepository, MaintenanceSession, RecordedRun, RunStatus, RunTrigger } from './maintenance.repository';

export interface MaintenanceResult {
  job: MaintenanceJob;
  affected: number;
  durationMs: number;
}

/** What a manual run may be given: evict's bound, retire's version to keep. */
export interface JobOptions {
  maxEntries?: number;
  retire?: { generatorVersion: string; namespace?: string };
}

interface RunOutcome {
  status: RunStatus;
  affected: number;
  durationMs: number;
  error?: unknown;
}

/** Name of a job in the SchedulerRegistry. */
export const cronJobName = (job: MaintenanceJob): string => `exercise-cache-${job}`;

/**
 * The maintenance jobs (cleanup of expired entries, LRU eviction down to MAX_ENTRIES, refresh of
 * the daily metrics view), on their cron schedules and on demand. Several replicas may share one
 * database: a run first takes the job's PostgreSQL advisory lock, so a job never runs twice at
 * once, and a scheduled run also checks the run history, so each scheduled tick runs once even
 * when the replicas' timers fire a little apart. Every run is logged, recorded in
 * exercise_cache_maintenance_runs and counted in /metrics.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MaintenanceService.name);
  /** Names this replica in the run history (two instances in one process stay distinct). */
  readonly instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new Set<Promise<unknown>>();
  private readonly scheduled: MaintenanceJob[] = [];

  constructor(
    private readonly cacheMaintenance: CacheMaintenanceService,
    private readonly invalidation: CacheInvalidationService,
    private readonly repository: MaintenanceRepository,
    private readonly metrics: MaintenanceMetrics,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    prisma: PrismaService,
    private readonly leases: LeaseRepository,
  ) {
    // A run that is under way at shutdown finishes (and records itself) before the pool closes.
    prisma.runBeforeClose(() => this.drain());
  }

  onApplicationBootstrap(): void {
    const plan: Record<ScheduledJob, { enabled: boolean; cron: string }> = {
      cleanup: { enabled: this.config.CLEANUP_ENABLED, cron: this.config.CLEANUP_CRON },
      evict: { enabled: this.config.EVICT_ENABLED, cron: this.config.EVICT_CRON },
      refresh: { enabled: this.config.REFRESH_ENABLED, cron: this.config.REFRESH_CRON },
    };
    for (const job of MAINTENANCE_JOBS) {
      if (plan[job].enabled) this.schedule(job, plan[job].cron);
      else this.logger.log(`${job} is not scheduled (${job.toUpperCase()}_ENABLED=false)`);
    }
  }

  /** No new ticks once shutdown begins; a run in progress is awaited by drain(). */
  onModuleDestroy(): void {
    for (const job of this.scheduled.splice(0)) {
      if (this.scheduler.doesExist('cron', cronJobName(job))) this.scheduler.deleteCronJob(cronJobName(job));
    }
  }

  /** Runs a job now. Throws JobAlreadyRunningError when another session holds its lock. */
  async runNow(job: MaintenanceJob, options: JobOptions = {}): Promise<MaintenanceResult> {
    const outcome = await this.track(this.execute(job, 'manual', options));
    if (outcome.status === 'skipped') throw new JobAlreadyRunningError(job);
    if (outcome.status === 'failed') throw outcome.error;
    return { job, affected: outcome.affected, durationMs: outcome.durationMs };
  }

  latestRuns(limit: number, job?: MaintenanceJob): Promise<RecordedRun[]> {
    return this.repository.latestRuns(limit, job);
  }

  /** Resolves when every run started so far has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private schedule(job: MaintenanceJob, expression: string): void {
    const timeZone = this.config.MAINTENANCE_TIMEZONE;
    let expected = 0;
    const cron: CronJob = CronJob.from({
      cronTime: expression,
      timeZone,
      name: cronJobName(job),
      // A tick that comes while the previous run on this replica is still going is dropped.
      waitForCompletion: true,
      onTick: async () => {
        const tick = tickBeingServed(cron, expected, timeZone);
        expected = cron.nextDate().toMillis();
        await this.track(this.execute(job, 'scheduled', { tick }));
      },
      start: false,
    });
    expected = cron.nextDate().toMillis();
    this.scheduler.addCronJob(cronJobName(job), cron as CronJob<null, null>);
    cron.start();
    this.scheduled.push(job);
    this.logger.log(`${job} scheduled "${expression}" (${timeZone}), next run ${cron.nextDate().toISO()}`);
  }

  private track<T>(run: Promise<T>): Promise<T> {
    this.running.add(run);
    void run.finally(() => this.running.delete(run)).catch(() => undefined);
    return run;
  }

  /** Never throws: failures are logged, recorded and returned. */
  private async execute(job: MaintenanceJob, trigger: RunTrigger, options: JobOptions & { tick?: Date }): Promise<RunOutcome> {
    const startedAt = new Date();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let session: MaintenanceSession | undefined;
    try {
      session = await this.repository.openSession();
      if (!(await session.tryLock(job))) {
        return await this.skipped(session, job, trigger, startedAt, 'another instance holds its lock');
      }
      if (options.tick) {
        const ranBy = await session.scheduledRunSince(job, options.tick);
        if (ranBy) return await this.skipped(session, job, trigger, startedAt, `the tick of ${options.tick.toISOString()} already ran on ${ranBy}`);
      }
      let affected: number;
      try {
        affected = await this.performJob(job, options);
      } catch (error) {
        return await this.failed(session, job, trigger, startedAt, elapsed(), error);
      }
      // The lock went with a lost session: another replica may have run the job meanwhile.
      if (session.lost) return await this.failed(session, job, trigger, startedAt, elapsed(), session.lost);
      const durationMs = elapsed();
      this.metrics.succeeded(job, durationMs / 1000);
      this.logger.log(`${job} (${trigger}) ok: ${affected} rows affected in ${durationMs} ms`);
      await this.record(session, { job, status: 'ok', affected, durationMs, error: null, trigger, startedAt });
      return { status: 'ok', affected, durationMs };
    } catch (error) {
      // The lock or the history could not be read: the database is unreachable or failing.
      return await this.failed(session, job, trigger, startedAt, elapsed(), error);
    } finally {
      await session?.close();
    }
  }

  /** Does what the job is for; resolves to the rows it affected (what the run records). */
  private performJob(job: MaintenanceJob, options: JobOptions): Promise<number> {
    switch (job) {
      case 'cleanup':
        return this.cleanup();
      case 'evict':
        return this.cacheMaintenance.evictLeastRecentlyUsed(options.maxEntries ?? this.config.MAX_ENTRIES);
      case 'retire':
        return this.invalidation.retireOtherVersions(options.retire!.generatorVersion, options.retire!.namespace);
      case 'refresh':
        return this.cacheMaintenance.refreshMetrics().then(() => this.repository.countDailyMetricsRows());
    }
  }

  /** Expired entries (the count the run records), and leases abandoned by crashed holders. */
  private async cleanup(): Promise<number> {
    const removed = await this.cacheMaintenance.cleanupExpired();
    await this.leases.deleteAbandoned();
    return removed;
  }

  private async skipped(session: MaintenanceSession, job: MaintenanceJob, trigger: RunTrigger, startedAt: Date, reason: string): Promise<RunOutcome> {
    this.metrics.skip(job);
    this.logger.log(`${job} (${trigger}) skipped: ${reason}`);
    await this.record(session, { job, status: 'skipped', affected: null, durationMs: null, error: reason, trigger, startedAt });
    return { status: 'skipped', affected: 0, durationMs: 0 };
  }

  private async failed(
    session: MaintenanceSession | undefined,
    job: MaintenanceJob,
    trigger: RunTrigger,
    startedAt: Date,
    durationMs: number,
    error: unknown,
  ): Promise<RunOutcome> {
    // One line for logs and the history (Prisma's messages span several).
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
    this.metrics.failed(job, durationMs / 1000);
    this.logger.error(`${job} (${trigger}) failed after ${durationMs} ms: ${message}`);
    if (session) await this.record(session, { job, status: 'failed', affected: null, durationMs, error: message, trigger, startedAt });
    return { status: 'failed', affected: 0, durationMs, error };
  }

  /**
   * Records on the run's own session, or through the pool when that session was lost. A run that
   * cannot be recorded at all (database gone) is still logged and counted.
   */
  private async record(
    session: MaintenanceSession,
    run: { job: MaintenanceJob; status: RunStatus; affected: number | null; durationMs: number | null; error: string | null; trigger: RunTrigger; startedAt: Date },
  ): Promise<void> {
    const row = { ...run, instance: this.instance, finishedAt: new Date() };
    const onSession = session.lost ? Promise.reject(session.lost) : session.record(row);
    await onSession
      .catch((error: Error) => (session.lost ? this.repository.recordRun(row) : Promise.reject(error)))
      .catch((error: Error) => this.logger.warn(`${run.job} (${run.trigger}) ${run.status} run could not be recorded: ${error.message}`));
  }
}

/**
 * The scheduled time this tick serves. Normally the time the previous tick predicted; if ticks
 * were missed (event loop blocked, clock jump), the latest scheduled time not after now.
 */
function tickBeingServed(cron: CronJob, expected: number, timeZone: string): Date {
  const now = Date.now();
  let tick = expected;
  for (let i = 0; i < 10_000; i++) {
    const following = cron.cronTime.getNextDateFrom(new Date(tick), timeZone).toMillis();
    if (following > now) break;
    tick = following;
  }
  return new Date(tick);
}
