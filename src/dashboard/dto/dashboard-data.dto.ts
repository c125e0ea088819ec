import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsNamespace } from '../../cache/dto/context-rule.decorators';
import { ToInt } from '../../cache/dto/query-transforms';
import { EntryGroupStatsResponse, EntrySummaryResponse, FilteredOverviewStatsResponse, OverviewStatsResponse, TypeStatsResponse } from '../../cache/dto/stats-responses.dto';
import type { DailyTotals } from '../daily-totals';
import { QuarantinedEntryResponse } from '../../quality/quarantine/quarantine.dto';

export const MAX_DASHBOARD_DAYS = 365;

/** GET /dashboard/data?days= */
export class DashboardQueryDto {
  @ApiPropertyOptional({ description: `Days of daily metrics, ending today (UTC), 1..${MAX_DASHBOARD_DAYS}`, example: 30, default: 30 })
  @IsOptional()
  @ToInt()
  @IsInt({ message: `days must be an integer from 1 to ${MAX_DASHBOARD_DAYS}` })
  @Min(1, { message: `days must be an integer from 1 to ${MAX_DASHBOARD_DAYS}` })
  @Max(MAX_DASHBOARD_DAYS, { message: `days must be an integer from 1 to ${MAX_DASHBOARD_DAYS}` })
  days: number = 30;

  @ApiPropertyOptional({ description: 'Only this namespace: totals, daily lookups and generator versions of it', example: 'school-42' })
  @IsOptional()
  @IsNamespace()
  namespace?: string;
}

/** Live entries against the configured bound. */
export class CacheSizeResponse {
  @ApiProperty({ description: 'Rows with expires_at > now()' }) activeEntries!: number;
  @ApiProperty({ description: 'Expired rows waiting for the cleanup job' }) expiredEntries!: number;
  @ApiProperty({ description: 'MAX_ENTRIES: the LRU eviction bound' }) maxEntries!: number;
  @ApiProperty({ description: 'activeEntries / maxEntries x 100, one decimal (may exceed 100 between evictions)' }) usedPercent!: number;
}

/** One UTC day of the whole cache (all types and difficulties). */
export class DailyTotalsResponse implements DailyTotals {
  @ApiProperty({ description: 'UTC day, YYYY-MM-DD' }) date!: string;
  @ApiProperty({ description: 'Exact hits' }) hits!: number;
  @ApiProperty({ description: 'Near-miss hits' }) nearHits!: number;
  @ApiProperty({ description: 'Expired entries served (stale-while-revalidate, stale-if-error, max-stale)' }) stale!: number;
  @ApiProperty({ description: "Exercises another caller generated under its lease, served" }) coalesced!: number;
  @ApiProperty({ description: 'Misses' }) misses!: number;
  @ApiProperty({ description: 'hits + near hits + stale + coalesced + misses' }) lookups!: number;
  @ApiPropertyOptional({ description: 'hits / lookups x 100; null on a day without lookups', nullable: true, type: Number }) hitRate!: number | null;
  @ApiProperty({ description: 'Entries created that day (still stored)' }) entriesCreated!: number;
  @ApiProperty({ description: 'Dollars saved that day' }) costSaved!: number;
  @ApiProperty({ description: 'Dollars the entries created that day cost' }) generationCost!: number;
}

/** Everything the dashboard page shows except maintenance runs, in one response. */
export class DashboardDataResponse {
  @ApiProperty({ description: 'When this response was built (ISO 8601)' }) generatedAt!: string;
  @ApiProperty({ description: 'Days covered by `daily`' }) days!: number;
  @ApiProperty({ type: CacheSizeResponse }) size!: CacheSizeResponse;
  @ApiProperty({ type: OverviewStatsResponse, description: 'Live overall statistics' }) overview!: OverviewStatsResponse;
  @ApiPropertyOptional({ description: 'The namespace shown, or null for the whole cache', nullable: true, type: String }) namespace!: string | null;
  @ApiProperty({ type: FilteredOverviewStatsResponse, description: 'Entries and lookup outcomes of what is shown (the namespace, or the whole cache), live' })
  lookups!: FilteredOverviewStatsResponse;
  @ApiProperty({ type: [EntryGroupStatsResponse], description: 'Every namespace (name null: none), most looked up first' }) namespaces!: EntryGroupStatsResponse[];
  @ApiProperty({ type: [EntryGroupStatsResponse], description: 'Generator versions of what is shown (name null: none), most looked up first' })
  generatorVersions!: EntryGroupStatsResponse[];
  @ApiProperty({ type: [TypeStatsResponse], description: 'Statistics per exercise type, most looked up first' }) byType!: TypeStatsResponse[];
  @ApiProperty({ type: [DailyTotalsResponse], description: 'Oldest first, as of the last metrics refresh' }) daily!: DailyTotalsResponse[];
  @ApiProperty({ type: [EntrySummaryResponse], description: 'Most used live entries' }) popular!: EntrySummaryResponse[];
  @ApiProperty({ type: [EntrySummaryResponse], description: 'Least recently used live entries: evicted first' }) evictionCandidates!: EntrySummaryResponse[];
  @ApiProperty({ type: [QuarantinedEntryResponse], description: 'Most recently quarantined entries (reports put them there), with their reports' }) quarantine!: QuarantinedEntryResponse[];
}
