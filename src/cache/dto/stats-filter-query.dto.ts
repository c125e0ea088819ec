import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsGeneratorVersion, IsNamespace } from './context-rule.decorators';
import { DaysQueryDto } from './lookup-query.dto';
import type { StatsFilter } from '../statistics-rows';

/** ?namespace=&generatorVersion= on the statistics routes: only that slice of the cache. */
export class StatsFilterQueryDto implements StatsFilter {
  @ApiPropertyOptional({ description: 'Only entries and lookups of this namespace', example: 'school-42' })
  @IsOptional()
  @IsNamespace()
  namespace?: string;

  @ApiPropertyOptional({ description: 'Only entries of this generator version, and lookups served with it or asking for it', example: 'prompt-v7/gpt-5-mini' })
  @IsOptional()
  @IsGeneratorVersion()
  generatorVersion?: string;
}

/** ?days=&namespace=&generatorVersion= on GET /exercise-cache/metrics/daily. */
export class DailyMetricsQueryDto extends IntersectionType(DaysQueryDto, StatsFilterQueryDto) {}
