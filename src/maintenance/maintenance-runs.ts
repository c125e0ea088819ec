import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { advisoryLockIdOf } from '../cache/advisory-locks';
import { CheckedOutClient } from '../database/checked-out-client';
import { DEFAULT_SCHEMA } from '../database/database-schema';
import type { CacheSqlNames } from '../database/sql-names';
import type { MaintenanceJob } from '../metrics/maintenance-metrics.service';

// The run history and the jobs' advisory locks on plain pg (no Nest, no Prisma): shared by the
// service's MaintenanceRepository and the package's scheduled maintenance.

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
export async function insertRun(db: Pool | PoolClient, names: CacheSqlNames, run: MaintenanceRun): Promise<void> {
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

/** Where maintenance runs lock and record themselves: the pools and names of one cache. */
export class MaintenanceRunStore {
  constructor(
    private readonly pool: Pool,
    /** Direct sessions (not PgBouncer in transaction mode): a session advisory lock needs one. */
    private readonly sessionPool: Pool,
    private readonly names: CacheSqlNames,
  ) {}

  async openSession(): Promise<MaintenanceSession> {
    return new MaintenanceSession(await CheckedOutClient.from(this.sessionPool), this.names);
  }

  /** Records a run through the pool, for a run whose own session was lost. */
  recordRun(run: MaintenanceRun): Promise<void> {
    return insertRun(this.pool, this.names, run);
  }
}
