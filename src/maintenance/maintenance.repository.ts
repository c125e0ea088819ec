import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { CheckedOutClient } from '../database/checked-out-client';
import { PrismaService } from '../database/prisma.service';
import type { CacheSqlNames } from '../database/sql-names';
import { DEFAULT_SCHEMA } from '../database/database-schema';
import { advisoryLockIdOf } from '../cache/advisory-locks';
import type { MaintenanceJob } from '../metrics/maintenance-metrics.service';

export type RunStatus = 'ok' | 'failed' | 'skipped';
export type RunTrigger = 'scheduled' | 'manual';

export interface MaintenanceRun {
  job: MaintenanceJob;
  status: RunStatus;
  affected: number | null;
  durationMs: number | null;
  error: string | null;
  instance: string;
  trigger: RunTrigger;
  startedAt: Date;
  finishedAt: Date;
}

export interface RecordedRun extends MaintenanceRun {
  id: number;
}

/** First half of the two-part advisory lock key: "maintenance job" (the generation locks use 0x45430001). */
export const MAINTENANCE_LOCK_SPACE = 0x45430002;
/** Second half: one fixed key per job, the same on every replica. */
export const MAINTENANCE_LOCK_IDS: Record<MaintenanceJob, number> = { cleanup: 1, evict: 2, refresh: 3, retire: 4 };

/**
 * The job's lock id for the cache in `schema`: caches in two schemas of one database run their
 * jobs independently (one's cleanup must not make the other's scheduled cleanup skip).
 */
export function maintenanceLockId(job: MaintenanceJob, schema: string): number {
  if (schema === DEFAULT_SCHEMA) return MAINTENANCE_LOCK_IDS[job];
  return advisoryLockIdOf(createHash('sha256').update(`${schema}:${job}`).digest('hex'));
}

const MAX_ERROR_LENGTH = 2000;

/**
 * One run's own database session. A session advisory lock belongs to the connection that took
 * it, so the run holds one pooled connection from the lock to the unlock, and records its row on
 * that connection before unlocking: a replica that gets the lock next already sees the row.
 */
export class MaintenanceSession {
  private locked?: MaintenanceJob;
  private readonly session: CheckedOutClient;
  private readonly client: PoolClient;

  constructor(
    session: CheckedOutClient,
    private readonly names: CacheSqlNames,
  ) {
    this.session = session;
    this.client = session.client;
  }

  /** pg_try_advisory_lock on the job's key: false while another session (any replica) holds it. */
  async tryLock(job: MaintenanceJob): Promise<boolean> {
    const { rows } = await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [
      MAINTENANCE_LOCK_SPACE,
      maintenanceLockId(job, this.names.schema),
    ]);
    if (rows[0].locked) this.locked = job;
    return rows[0].locked;
  }

  /** The instance that already ran (or tried) the scheduled tick at `tick`, if one did. */
  async scheduledRunSince(job: MaintenanceJob, tick: Date): Promise<string | undefined> {
    const { rows } = await this.client.query<{ instance: string }>(
      `SELECT instance FROM ${this.names.maintenanceRuns}
       WHERE job = $1 AND trigger = 'scheduled' AND status IN ('ok', 'failed') AND started_at >= $2
       ORDER BY started_at DESC LIMIT 1`,
      [job, tick],
    );
    return rows[0]?.instance;
  }

  /** The error the session's connection was lost with, if it was: the lock went with it. */
  get lost(): Error | undefined {
    return this.session.lost;
  }

  record(run: MaintenanceRun): Promise<void> {
    return insertRun(this.client, this.names, run);
  }

  /** Unlocks and returns the connection; a connection that cannot unlock is discarded, which unlocks too. */
  async close(): Promise<void> {
    if (!this.locked || this.session.lost) {
      this.session.release();
      return;
    }
    try {
      await this.client.query('SELECT pg_advisory_unlock($1, $2)', [MAINTENANCE_LOCK_SPACE, maintenanceLockId(this.locked, this.names.schema)]);
      this.session.release();
    } catch (error) {
      this.session.release(error);
    }
  }
}

/** One row of the run history. */
async function insertRun(db: Pool | PoolClient, names: CacheSqlNames, run: MaintenanceRun): Promise<void> {
  await db.query(
    `INSERT INTO ${names.maintenanceRuns} (job, status, affected, duration_ms, error, instance, trigger, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      run.job,
      run.status,
      run.affected,
      run.durationMs,
      run.error === null ? null : run.error.slice(0, MAX_ERROR_LENGTH),
      run.instance.slice(0, 100),
      run.trigger,
      run.startedAt,
      run.finishedAt,
    ],
  );
}

/** Every query of the maintenance jobs and their run history. */
@Injectable()
export class MaintenanceRepository {
  constructor(private readonly prisma: PrismaService) {}

  async openSession(): Promise<MaintenanceSession> {
    // A session advisory lock needs a real session: the session pool (DATABASE_DIRECT_URL when set).
    return new MaintenanceSession(await CheckedOutClient.from(this.prisma.sessionPool), this.prisma.names);
  }

  /** Records a run through the pool, for a run whose own session was lost. */
  recordRun(run: MaintenanceRun): Promise<void> {
    return insertRun(this.prisma.pool, this.prisma.names, run);
  }

  /** Rows in the daily metrics view: what a refresh reports as affected. */
  async countDailyMetricsRows(): Promise<number> {
    const { rows } = await this.prisma.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.prisma.names.dailyMetrics}`);
    return rows[0].n;
  }

  /** The latest runs on every replica, newest first. */
  async latestRuns(limit: number, job?: MaintenanceJob): Promise<RecordedRun[]> {
    const rows = await this.prisma.exerciseCacheMaintenanceRun.findMany({
      where: job ? { job } : {},
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return rows.map(toRecordedRun);
  }

  /**
   * The last run of each job that was not a skip, whichever replica ran it: skips say nothing
   * about whether the job works. One index walk of idx_maintenance_runs_job_started per job.
   */
  async lastExecutedRuns(jobs: readonly MaintenanceJob[]): Promise<Map<MaintenanceJob, RecordedRun>> {
    const { rows } = await this.prisma.pool.query<
      { id: string; job: string; status: string; affected: number | null; duration_ms: number | null; error: string | null; instance: string; trigger: string; started_at: Date; finished_at: Date | null }
    >(
      `SELECT r.* FROM unnest($1::text[]) AS j(job)
       CROSS JOIN LATERAL (
         SELECT * FROM ${this.prisma.names.maintenanceRuns} r
         WHERE r.job = j.job AND r.status <> 'skipped'
         ORDER BY r.started_at DESC, r.id DESC
         LIMIT 1
       ) r`,
      [jobs],
    );
    return new Map(
      rows.map((row) => [
        row.job as MaintenanceJob,
        toRecordedRun({ ...row, durationMs: row.duration_ms, startedAt: row.started_at, finishedAt: row.finished_at }),
      ]),
    );
  }
}

interface RunRow {
  id: bigint | string;
  job: string;
  status: string;
  affected: number | null;
  durationMs: number | null;
  error: string | null;
  instance: string;
  trigger: string;
  startedAt: Date;
  finishedAt: Date | null;
}

function toRecordedRun(row: RunRow): RecordedRun {
  return {
    id: Number(row.id),
    job: row.job as MaintenanceJob,
    status: row.status as RunStatus,
    affected: row.affected,
    durationMs: row.durationMs,
    error: row.error,
    instance: row.instance,
    trigger: row.trigger as RunTrigger,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt ?? row.startedAt,
  };
}
