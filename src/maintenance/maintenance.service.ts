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
import { runScheduledJob } from './maintenance-jobs';
import { MaintenanceRunner } from './maintenance-runner';
import { MaintenanceRepository, RecordedRun, RunTrigger } from './maintenance.repository';

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

/** Name of a job in the SchedulerRegistry. */
export const cronJobName = (job: MaintenanceJob): string => `exercise-cache-${job}`;

/**
 * The maintenance jobs (cleanup of expired entries, LRU eviction down to MAX_ENTRIES, refresh of
 * the daily metrics view), on their cron schedules and on demand. Several replicas may share one
 * database: a run first takes the job's PostgreSQL advisory lock, so a job never runs twice at
 * once, and a scheduled run also checks the run history, so each scheduled tick runs once even
 * when the replicas' timers fire a little apart (MaintenanceRunner, which the package's own
 * schedule uses too). Every run is logged, recorded in exercise_cache_maintenance_runs and counted
 * in /metrics.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MaintenanceService.name);
  private readonly runner: MaintenanceRunner;
  /** Names this replica in the run history. */
  readonly instance: string;
  private readonly scheduled: MaintenanceJob[] = [];

  constructor(
    private readonly cacheMaintenance: CacheMaintenanceService,
    private readonly invalidation: CacheInvalidationService,
    private readonly repository: MaintenanceRepository,
    metrics: MaintenanceMetrics,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    prisma: PrismaService,
    private readonly leases: LeaseRepository,
  ) {
    const log = (level: 'log' | 'warn' | 'error') => (message: string) => this.logger[level](message);
    this.runner = new MaintenanceRunner(repository, { log: log('log'), warn: log('warn'), error: log('error') }, metrics);
    this.instance = this.runner.instance;
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
    const outcome = await this.runner.run(job, 'manual', () => this.performJob(job, options));
    if (outcome.status === 'skipped') throw new JobAlreadyRunningError(job);
    if (outcome.status === 'failed') throw outcome.error;
    return { job, affected: outcome.affected, durationMs: outcome.durationMs };
  }

  latestRuns(limit: number, job?: MaintenanceJob): Promise<RecordedRun[]> {
    return this.repository.latestRuns(limit, job);
  }

  /** Resolves when every run started so far has finished. */
  drain(): Promise<void> {
    return this.runner.drain();
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
        await this.runner.run(job, 'scheduled', () => this.performJob(job, {}), tick);
      },
      start: false,
    });
    expected = cron.nextDate().toMillis();
    this.scheduler.addCronJob(cronJobName(job), cron as CronJob<null, null>);
    cron.start();
    this.scheduled.push(job);
    this.logger.log(`${job} scheduled "${expression}" (${timeZone}), next run ${cron.nextDate().toISO()}`);
  }

  /** Does what the job is for; resolves to the rows it affected (what the run records). */
  private performJob(job: MaintenanceJob, options: JobOptions): Promise<number> {
    if (job === 'retire') return this.invalidation.retireOtherVersions(options.retire!.generatorVersion, options.retire!.namespace);
    const maxEntries = job === 'evict' ? (options.maxEntries ?? this.config.MAX_ENTRIES) : undefined;
    return runScheduledJob(job, { cache: this.cacheMaintenance, leases: this.leases, runs: this.repository }, maxEntries);
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
