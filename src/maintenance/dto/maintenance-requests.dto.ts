import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { ToInt } from '../../cache/dto/query-transforms';
import { MAINTENANCE_JOBS, MaintenanceJob } from '../../metrics/maintenance-metrics.service';

const MAX_ENTRIES_MESSAGE = 'maxEntries must be an integer from 0 to 100000000';
const LIMIT_MESSAGE = 'limit must be an integer from 1 to 1000';

/** POST /exercise-cache/maintenance/evict body: { "maxEntries": 5000 } (optional). */
export class EvictBodyDto {
  @ApiPropertyOptional({ description: 'Keep at most this many active entries (0..100000000); default MAX_ENTRIES', example: 10000 })
  @IsOptional()
  @IsInt({ message: MAX_ENTRIES_MESSAGE })
  @Min(0, { message: MAX_ENTRIES_MESSAGE })
  @Max(100_000_000, { message: MAX_ENTRIES_MESSAGE })
  maxEntries?: number;
}

/** POST /exercise-cache/maintenance/evict?maxEntries=5000, for callers without a body. */
export class EvictQueryDto {
  @ApiPropertyOptional({ description: 'Same as the body field; the body wins when both are given', example: 10000 })
  @IsOptional()
  @ToInt()
  @IsInt({ message: MAX_ENTRIES_MESSAGE })
  @Min(0, { message: MAX_ENTRIES_MESSAGE })
  @Max(100_000_000, { message: MAX_ENTRIES_MESSAGE })
  maxEntries?: number;
}

/** GET /exercise-cache/maintenance/runs?limit=&job= */
export class RunsQueryDto {
  @ApiPropertyOptional({ description: 'Maximum number of runs, newest first (1..1000)', default: 50 })
  @IsOptional()
  @ToInt()
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(1000, { message: LIMIT_MESSAGE })
  limit = 50;

  @ApiPropertyOptional({ description: 'Only runs of this job', enum: MAINTENANCE_JOBS })
  @IsOptional()
  @IsIn(MAINTENANCE_JOBS, { message: `job must be one of ${MAINTENANCE_JOBS.join(', ')}` })
  job?: MaintenanceJob;
}
