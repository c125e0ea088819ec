import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DaysQueryDto, LimitQueryDto } from './dto/lookup-query.dto';
import { DailyMetricsResponse, EntryGroupStatsResponse, EntrySummaryResponse, OverviewStatsResponse, TypeStatsResponse } from './dto/stats-responses.dto';
import { CacheStatisticsService } from './cache-statistics.service';
import { QuarantineService } from '../quality/quarantine/quarantine.service';

@ApiTags('statistics')
@Controller('exercise-cache')
export class ExerciseCacheStatsController {
  constructor(
    private readonly statistics: CacheStatisticsService,
    private readonly quarantine: QuarantineService,
  ) {}

  @Get('stats')
  @ApiOkResponse({ type: OverviewStatsResponse })
  async stats(): Promise<Record<string, unknown>> {
    return this.quarantine.withOverallCounts(await this.statistics.stats());
  }

  @Get('stats/types')
  @ApiOkResponse({ type: [TypeStatsResponse] })
  async statsByType(): Promise<Record<string, unknown>[]> {
    return this.quarantine.withCountsByType(await this.statistics.statsByType());
  }

  @Get('stats/namespaces')
  @ApiOkResponse({ type: [EntryGroupStatsResponse], description: 'Stored entries per namespace (lookup outcomes are not kept per namespace)' })
  statsByNamespace(): Promise<Record<string, unknown>[]> {
    return this.statistics.statsByNamespace();
  }

  @Get('stats/generator-versions')
  @ApiOkResponse({ type: [EntryGroupStatsResponse], description: 'Stored entries per generator version (lookup outcomes are not kept per version)' })
  statsByGeneratorVersion(): Promise<Record<string, unknown>[]> {
    return this.statistics.statsByGeneratorVersion();
  }

  @Get('popular')
  @ApiBadRequestResponse({ description: 'Invalid query parameter; the message names it' })
  @ApiOkResponse({ type: [EntrySummaryResponse] })
  popular(@Query() { limit }: LimitQueryDto): Promise<Record<string, unknown>[]> {
    return this.statistics.popular(limit);
  }

  @Get('lru')
  @ApiBadRequestResponse({ description: 'Invalid query parameter; the message names it' })
  @ApiOkResponse({ type: [EntrySummaryResponse], description: 'Eviction candidates, first to go first' })
  leastRecentlyUsed(@Query() { limit }: LimitQueryDto): Promise<Record<string, unknown>[]> {
    return this.statistics.leastRecentlyUsed(limit);
  }

  @Get('metrics/daily')
  @ApiBadRequestResponse({ description: 'Invalid query parameter; the message names it' })
  @ApiOkResponse({ type: [DailyMetricsResponse], description: 'As of the last metrics refresh' })
  dailyMetrics(@Query() { days }: DaysQueryDto): Promise<Record<string, unknown>[]> {
    return this.statistics.dailyMetrics(days);
  }
}
