import { Injectable } from '@nestjs/common';
import { HealthCheckAttempt, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { MaintenanceRepository } from '../maintenance/maintenance.repository';
import { MAINTENANCE_JOBS } from '../metrics/maintenance-metrics.service';
import { CacheStatisticsService } from '../cache/cache-statistics.service';
import { HealthRepository } from './health.repository';

/**
 * The checks of /health. Each one that reads the database is cut off after HEALTH_DB_TIMEOUT_MS,
 * so a hung or unreachable database makes /health answer 503 promptly instead of hanging. A check
 * fails by throwing: terminus reports it as down with the error's message.
 */
@Injectable()
export class CacheHealthIndicators {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly repository: HealthRepository,
    private readonly statistics: CacheStatisticsService,
    private readonly maintenance: MaintenanceRepository,
    private readonly config: AppConfig,
  ) {}

  process(): HealthIndicatorResult<'process'> {
    return this.health.check('process').up({ pid: process.pid, uptimeSeconds: Math.round(process.uptime()) });
  }

  /** Reachable and able to take writes: the cache writes on every store and every usage flush. */
  database(): HealthCheckAttempt<'database'> {
    return this.health
      .check('database')
      .attempt(async () => {
        const { inRecovery, readOnly } = await this.repository.writability();
        if (inRecovery) throw new Error('database cannot take writes: it is a standby in recovery');
        if (readOnly) throw new Error('database cannot take writes: transactions are read-only (default_transaction_read_only)');
      })
      .withTimeout(this.config.HEALTH_DB_TIMEOUT_MS);
  }

  migrations(): HealthCheckAttempt<'migrations'> {
    return this.health
      .check('migrations')
      .attempt(async () => {
        const pending = await this.repository.pendingMigrations();
        if (pending.length > 0) throw new Error(`pending migrations: ${pending.join(', ')} (run npm run db:migrate)`);
        return { pending: 0 };
      })
      .withTimeout(this.config.HEALTH_DB_TIMEOUT_MS);
  }

  /** Eviction keeps the cache near MAX_ENTRIES; far above it means eviction is not keeping up. */
  cacheSize(): HealthCheckAttempt<'cache_size'> {
    const limit = Math.floor(this.config.MAX_ENTRIES * (1 + this.config.HEALTH_SIZE_TOLERANCE_PERCENT / 100));
    return this.health
      .check('cache_size')
      .attempt(async () => {
        const activeEntries = await this.statistics.countActive();
        if (activeEntries > limit) {
          throw new Error(
            `${activeEntries} active entries exceed ${limit} (MAX_ENTRIES ${this.config.MAX_ENTRIES} + ${this.config.HEALTH_SIZE_TOLERANCE_PERCENT}%)`,
          );
        }
        return { activeEntries, limit };
      })
      .withTimeout(this.config.HEALTH_DB_TIMEOUT_MS);
  }

  /** The last executed run of each job, on any replica, must not have failed. */
  maintenanceJobs(): HealthCheckAttempt<'maintenance'> {
    return this.health
      .check('maintenance')
      .attempt(async () => {
        const last = await this.maintenance.lastExecutedRuns(MAINTENANCE_JOBS);
        const failed = [...last.values()].filter((run) => run.status === 'failed');
        if (failed.length > 0) {
          throw new Error(
            failed.map((run) => `last ${run.job} run failed at ${run.finishedAt.toISOString()} on ${run.instance}: ${run.error ?? 'unknown error'}`).join('; '),
          );
        }
        const jobs: Record<string, unknown> = {};
        for (const job of MAINTENANCE_JOBS) {
          const run = last.get(job);
          jobs[job] = run ? { lastRun: run.status, finishedAt: run.finishedAt.toISOString() } : { lastRun: 'never' };
        }
        return jobs;
      })
      .withTimeout(this.config.HEALTH_DB_TIMEOUT_MS);
  }
}
