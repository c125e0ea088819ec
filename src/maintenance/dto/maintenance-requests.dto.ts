import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { GENERATOR_VERSION_MESSAGE, GENERATOR_VERSION_PATTERN, NAMESPACE_MESSAGE, NAMESPACE_PATTERN } from '../../cache/context-rules';
import { ToInt } from '../../cache/dto/query-transforms';
import { ALL_MAINTENANCE_JOBS, MaintenanceJob } from '../../metrics/maintenance-metrics.service';

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

  @ApiPropertyOptional({ description: 'Only runs of this job', enum: ALL_MAINTENANCE_JOBS })
  @IsOptional()
  @IsIn(ALL_MAINTENANCE_JOBS, { message: `job must be one of ${ALL_MAINTENANCE_JOBS.join(', ')}` })
  job?: MaintenanceJob;
}

/** POST /exercise-cache/maintenance/retire */
export class RetireBodyDto {
  @ApiProperty({ description: 'The generator version to keep: entries of every other version (and entries without one) are removed', example: 'prompt-v7/gpt-5-mini' })
  @IsString({ message: GENERATOR_VERSION_MESSAGE })
  @Matches(GENERATOR_VERSION_PATTERN, { message: GENERATOR_VERSION_MESSAGE })
  generatorVersion!: string;

  @ApiPropertyOptional({ description: 'Only retire entries of this namespace', example: 'school-42' })
  @IsOptional()
  @IsString({ message: NAMESPACE_MESSAGE })
  @Matches(NAMESPACE_PATTERN, { message: NAMESPACE_MESSAGE })
  namespace?: string;
}
