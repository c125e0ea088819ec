import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CacheLogger } from '../cache/cache-logger';
import type { MaintenanceJob } from '../metrics/maintenance-metrics.service';
import type { MaintenanceRunStore, MaintenanceSession, RunStatus, RunTrigger } from './maintenance-runs';

export interface RunOutcome {
  status: RunStatus;
  affected: number;
  durationMs: number;
  error?: unknown;
}

/** What a run reports besides its log line and its row (the service's /metrics). */
export interface MaintenanceRunHooks {
  succeeded?(job: MaintenanceJob, seconds: number): void;
  failed?(job: MaintenanceJob, seconds: number): void;
  skip?(job: MaintenanceJob): void;
}

/** Names a process's maintenance in the run history (two instances in one process stay distinct). */
export function maintenanceInstanceName(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

const LOG_CONTEXT = 'Maintenance';

/**
 * Runs maintenance jobs once across processes, without any framework: the service's cron jobs
 * (MaintenanceService) and the package's interval schedule both run through it. A run first takes
 * the job's PostgreSQL advisory lock, so a job never runs twice at once; a scheduled run also
 * checks the run history, so each tick runs once even when the processes' timers fire a little
 * apart. Every run is logged and recorded in exercise_cache_maintenance_runs.
 */
export class MaintenanceRunner {
  readonly instance = maintenanceInstanceName();
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly store: MaintenanceRunStore,
    private readonly logger: CacheLogger,
    private readonly hooks: MaintenanceRunHooks = {},
  ) {}

  /** Runs `work` as `job` under the job's lock. Never throws: failures are logged, recorded and returned. */
  run(job: MaintenanceJob, trigger: RunTrigger, work: () => Promise<number>, tick?: Date): Promise<RunOutcome> {
    const run = this.execute(job, trigger, work, tick);
    this.running.add(run);
    void run.finally(() => this.running.delete(run)).catch(() => undefined);
    return run;
  }

  /** Resolves when every run started so far has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async execute(job: MaintenanceJob, trigger: RunTrigger, work: () => Promise<number>, tick?: Date): Promise<RunOutcome> {
    const startedAt = new Date();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let session: MaintenanceSession | undefined;
    try {
      session = await this.store.openSession();
      if (!(await session.tryLock(job))) {
        return await this.skipped(session, job, trigger, startedAt, 'another instance holds its lock');
      }
      if (tick) {
        const ranBy = await session.scheduledRunSince(job, tick);
        if (ranBy) return await this.skipped(session, job, trigger, startedAt, `the tick of ${tick.toISOString()} already ran on ${ranBy}`);
      }
      let affected: number;
      try {
        affected = await work();
      } catch (error) {
        return await this.failed(session, job, trigger, startedAt, elapsed(), error);
      }
      // The lock went with a lost session: another process may have run the job meanwhile.
      if (session.lost) return await this.failed(session, job, trigger, startedAt, elapsed(), session.lost);
      const durationMs = elapsed();
      this.hooks.succeeded?.(job, durationMs / 1000);
      this.logger.log(`${job} (${trigger}) ok: ${affected} rows affected in ${durationMs} ms`, LOG_CONTEXT);
      await this.record(session, { job, status: 'ok', affected, durationMs, error: null, trigger, startedAt });
      return { status: 'ok', affected, durationMs };
    } catch (error) {
      // The lock or the history could not be read: the database is unreachable or failing.
      return await this.failed(session, job, trigger, startedAt, elapsed(), error);
    } finally {
      await session?.close();
    }
  }

  private async skipped(session: MaintenanceSession, job: MaintenanceJob, trigger: RunTrigger, startedAt: Date, reason: string): Promise<RunOutcome> {
    this.hooks.skip?.(job);
    this.logger.log(`${job} (${trigger}) skipped: ${reason}`, LOG_CONTEXT);
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
    this.hooks.failed?.(job, durationMs / 1000);
    this.logger.error(`${job} (${trigger}) failed after ${durationMs} ms: ${message}`, LOG_CONTEXT);
    if (session) await this.record(session, { job, status: 'failed', affected: null, durationMs, error: message, trigger, startedAt });
    return { status: 'failed', affected: 0, durationMs, error };
  }

  /**
   * Records on the run's own session (before unlocking: the next holder of the lock already sees
   * the row), or through the pool when that session was lost. A run that cannot be recorded at
   * all (database gone) is still logged.
   */
  private async record(
    session: MaintenanceSession,
    run: { job: MaintenanceJob; status: RunStatus; affected: number | null; durationMs: number | null; error: string | null; trigger: RunTrigger; startedAt: Date },
  ): Promise<void> {
    const row = { ...run, instance: this.instance, finishedAt: new Date() };
    const onSession = session.lost ? Promise.reject(session.lost) : session.record(row);
    await onSession
      .catch((error: Error) => (session.lost ? this.store.recordRun(row) : Promise.reject(error)))
      .catch((error: Error) => this.logger.warn(`${run.job} (${run.trigger}) ${run.status} run could not be recorded: ${error.message}`, LOG_CONTEXT));
  }
}
