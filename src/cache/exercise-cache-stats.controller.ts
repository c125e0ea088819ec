import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiExtraModels, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { LimitQueryDto } from './dto/lookup-query.dto';
import { DailyMetricsQueryDto, StatsFilterQueryDto } from './dto/stats-filter-query.dto';
import {
  DailyMetricsResponse,
  DailyOutcomeStatsResponse,
  EntryGroupStatsResponse,
  EntrySummaryResponse,
  FilteredOverviewStatsResponse,
  FilteredTypeStatsResponse,
  OverviewStatsResponse,
  TypeStatsResponse,
} from './dto/stats-responses.dto';
import { CacheStatisticsService } from './cache-statistics.service';
import type { DailyOutcomeStats, FilteredOverviewStats, FilteredTypeStats, GroupStats, StatsFilter } from './statistics-rows';
import { QuarantineService } from '../quality/quarantine/quarantine.service';

const isFiltered = (filter: StatsFilter) => filter.namespace !== undefined || filter.generatorVersion !== undefined;
const FILTER_NOTE = 'With namespace and/or generatorVersion: only that slice (entries of it, and lookups counted under it)';

@ApiTags('statistics')
@Controller('exercise-cache')
export class ExerciseCacheStatsController {
  constructor(
    private readonly statistics: CacheStatisticsService,
    private readonly quarantine: QuarantineService,
  ) {}

  @Get('stats')
  @ApiOkResponse({ type: OverviewStatsResponse, description: `The whole cache. ${FILTER_NOTE}: FilteredOverviewStatsResponse` })
  @ApiExtraModels(FilteredOverviewStatsResponse)
  async stats(@Query() filter: StatsFilterQueryDto): Promise<OverviewStatsResponse | FilteredOverviewStats> {
    if (!isFiltered(filter)) return this.quarantine.withOverallCounts(await this.statistics.stats());
    return this.statistics.statsOf(filter);
  }

  @Get('stats/types')
  @ApiOkResponse({ type: [TypeStatsResponse], description: `Per exercise type. ${FILTER_NOTE}: FilteredTypeStatsResponse rows` })
  @ApiExtraModels(FilteredTypeStatsResponse)
  async statsByType(@Query() filter: StatsFilterQueryDto): Promise<TypeStatsResponse[] | FilteredTypeStats[]> {
    if (!isFiltered(filter)) return this.quarantine.withCountsByType(await this.statistics.statsByType());
    return this.statistics.statsByTypeOf(filter);
  }

  @Get('stats/namespaces')
  @ApiOkResponse({ type: [EntryGroupStatsResponse], description: `Stored entries and lookup outcomes per namespace (name null: none). ${FILTER_NOTE}` })
  statsByNamespace(@Query() filter: StatsFilterQueryDto): Promise<GroupStats[]> {
    return this.statistics.statsByNamespace(filter);
  }

  @Get('stats/generator-versions')
  @ApiOkResponse({ type: [EntryGroupStatsResponse], description: `Stored entries and lookup outcomes per generator version (name null: none). ${FILTER_NOTE}` })
  statsByGeneratorVersion(@Query() filter: StatsFilterQueryDto): Promise<GroupStats[]> {
    return this.statistics.statsByGeneratorVersion(filter);
  }

  @Get('popular')
  @ApiBadRequestResponse({ description: 'Invalid query parameter; the message names it' })
  @ApiOkResponse({ type: [EntrySummaryResponse] })
  popular(@Query() { limit }: LimitQueryDto): Promise<EntrySummaryResponse[]> {
    return this.statistics.popular(limit);
  }

  @Get('lru')
  @ApiBadRequestResponse({ description: 'Invalid query parameter; the message names it' })
  @ApiOkResponse({ type: [EntrySummaryResponse], description: 'Eviction candidates, first to go first' })
  leastRecentlyUsed(@Query() { limit }: LimitQueryDto): Promise<EntrySummaryResponse[]> {
    return this.statistics.leastRecentlyUsed(limit);
  }

  @Get('metrics/daily')
  @ApiBadRequestResponse({ description: 'Invalid query parameter; the message names it' })
  @ApiOkResponse({ type: [DailyMetricsResponse], description: `The whole cache per day, type and difficulty, as of the last metrics refresh. ${FILTER_NOTE}: DailyOutcomeStatsResponse rows, one per UTC day with lookups, live` })
  @ApiExtraModels(DailyOutcomeStatsResponse)
  dailyMetrics(@Query() { days, namespace, generatorVersion }: DailyMetricsQueryDto): Promise<DailyMetricsResponse[] | DailyOutcomeStats[]> {
    const filter = { namespace, generatorVersion };
    // The materialized view has no namespace or version columns, so a slice is read live from the lookup counters.
    if (!isFiltered(filter)) return this.statistics.dailyMetrics(days);
    return this.statistics.dailyOutcomes(days, filter);
  }
}
