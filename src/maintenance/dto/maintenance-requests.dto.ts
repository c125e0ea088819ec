import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { MAX_ENTRIES_LIMIT, MAX_LIST_LIMIT } from '../../cache/context-rules';
import { IsGeneratorVersion, IsIntegerIn, IsNamespace } from '../../cache/dto/context-rule.decorators';
import { ToInt } from '../../cache/dto/query-transforms';
import { ALL_MAINTENANCE_JOBS, MaintenanceJob } from '../../metrics/maintenance-metrics.service';

/** POST /exercise-cache/maintenance/evict body: { "maxEntries": 5000 } (optional). */
export class EvictBodyDto {
  @ApiPropertyOptional({ description: `Keep at most this many active entries (0..${MAX_ENTRIES_LIMIT}); default MAX_ENTRIES`, example: 10000 })
  @IsOptional()
  @IsIntegerIn('maxEntries', 0, MAX_ENTRIES_LIMIT)
  maxEntries?: number;
}

/** POST /exercise-cache/maintenance/evict?maxEntries=5000, for callers without a body. */
export class EvictQueryDto {
  @ApiPropertyOptional({ description: 'Same as the body field; the body wins when both are given', example: 10000 })
  @IsOptional()
  @ToInt()
  @IsIntegerIn('maxEntries', 0, MAX_ENTRIES_LIMIT)
  maxEntries?: number;
}

/** GET /exercise-cache/maintenance/runs?limit=&job= */
export class RunsQueryDto {
  @ApiPropertyOptional({ description: `Maximum number of runs, newest first (1..${MAX_LIST_LIMIT})`, default: 50 })
  @IsOptional()
  @ToInt()
  @IsIntegerIn('limit', 1, MAX_LIST_LIMIT)
  limit = 50;

  @ApiPropertyOptional({ description: 'Only runs of this job', enum: ALL_MAINTENANCE_JOBS })
  @IsOptional()
  @IsIn(ALL_MAINTENANCE_JOBS, { message: `job must be one of ${ALL_MAINTENANCE_JOBS.join(', ')}` })
  job?: MaintenanceJob;
}

/** POST /exercise-cache/maintenance/retire */
export class RetireBodyDto {
  @ApiProperty({ description: 'The generator version to keep: entries of every other version (and entries without one) are removed', example: 'prompt-v7/gpt-5-mini' })
  @IsGeneratorVersion()
  generatorVersion!: string;

  @ApiPropertyOptional({ description: 'Only retire entries of this namespace', example: 'school-42' })
  @IsOptional()
  @IsNamespace()
  namespace?: string;
}
