import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { MaintenanceJob } from '../metrics/maintenance-metrics.service';
import { MaintenanceRunStore, RecordedRun, RunStatus, RunTrigger } from './maintenance-runs';

export { MAINTENANCE_LOCK_IDS, MAINTENANCE_LOCK_SPACE, MaintenanceSession, maintenanceLockId } from './maintenance-runs';
export type { MaintenanceRun, RecordedRun, RunStatus, RunTrigger } from './maintenance-runs';

/** Every query of the maintenance jobs and their run history (the history read through Prisma). */
@Injectable()
export class MaintenanceRepository extends MaintenanceRunStore {
  constructor(private readonly prisma: PrismaService) {
    // A session advisory lock needs a real session: the session pool (DATABASE_DIRECT_URL when set).
    super(prisma.pool, prisma.sessionPool, prisma.names);
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
