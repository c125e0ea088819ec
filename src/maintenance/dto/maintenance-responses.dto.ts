import { ApiProperty } from '@nestjs/swagger';
import { ALL_MAINTENANCE_JOBS, MaintenanceJob } from '../../metrics/maintenance-metrics.service';
import type { RecordedRun } from '../maintenance.repository';

export class MaintenanceResultResponse {
  @ApiProperty({ description: 'The job that ran', enum: ALL_MAINTENANCE_JOBS })
  job!: MaintenanceJob;

  @ApiProperty({ description: 'Rows removed (cleanup, evict, retire) or rows in the refreshed daily metrics view (refresh)' })
  affected!: number;

  @ApiProperty({ description: 'How long the run took, in milliseconds' })
  durationMs!: number;
}

export class MaintenanceRunResponse {
  @ApiProperty({ description: 'Row id in exercise_cache_maintenance_runs' })
  id!: number;

  @ApiProperty({ enum: ALL_MAINTENANCE_JOBS })
  job!: MaintenanceJob;

  @ApiProperty({ description: 'ok, failed, or skipped (another replica held the job or had run the scheduled tick)', enum: ['ok', 'failed', 'skipped'] })
  status!: string;

  @ApiProperty({ description: 'Rows affected; null unless ok', nullable: true, type: Number })
  affected!: number | null;

  @ApiProperty({ description: 'Run time in milliseconds; null for skips', nullable: true, type: Number })
  durationMs!: number | null;

  @ApiProperty({ description: 'Why the run failed or was skipped', nullable: true, type: String })
  error!: string | null;

  @ApiProperty({ description: 'The replica: host:pid:random' })
  instance!: string;

  @ApiProperty({ enum: ['scheduled', 'manual'] })
  trigger!: string;

  @ApiProperty({ description: 'ISO 8601' })
  startedAt!: string;

  @ApiProperty({ description: 'ISO 8601' })
  finishedAt!: string;

  static from(run: RecordedRun): MaintenanceRunResponse {
    return { ...run, startedAt: run.startedAt.toISOString(), finishedAt: run.finishedAt.toISOString() };
  }
}
