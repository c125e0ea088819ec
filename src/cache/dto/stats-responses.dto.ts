import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { QualityCounts } from '../../quality/quarantine/quarantine.repository';
import type { DailyMetrics, EntrySummary, OverviewStats, TypeStats } from '../cache-statistics.repository';
import type { DailyOutcomeStats, FilteredOverviewStats, FilteredTypeStats, GroupStats, LookupOutcomeStats } from '../statistics-rows';

/** exercise_cache_overview in camelCase. Rates are percentages with two decimals. */
export class OverviewStatsResponse implements OverviewStats, QualityCounts {
  @ApiProperty({ description: 'Rows in exercise_cache, live or expired' }) totalEntries!: number;
  @ApiProperty({ description: 'Rows with expires_at > now()' }) activeEntries!: number;
  @ApiProperty({ description: 'Rows with expires_at <= now(), waiting for cleanup' }) expiredEntries!: number;
  @ApiProperty({ description: 'Sum of usage_count over all rows' }) totalUsage!: number;
  @ApiProperty({ description: 'Lookups answered with the exact context (recorded outcomes)' }) totalHits!: number;
  @ApiProperty({ description: 'Lookups answered with a near miss (overlapping topics)' }) nearHits!: number;
  @ApiProperty({ description: 'Lookups that found nothing' }) totalMisses!: number;
  @ApiProperty({ description: 'Lookups answered with an expired entry (stale-while-revalidate, stale-if-error, max-stale)' }) stale!: number;
  @ApiProperty({ description: "Lookups answered with the exercise another caller generated under its lease" }) coalesced!: number;
  @ApiProperty({ description: 'hits + near hits + stale + coalesced + misses' }) totalLookups!: number;
  @ApiProperty({ description: 'hits / lookups x 100 (exact hits only)' }) cacheHitRate!: number;
  @ApiProperty({ description: 'near hits / lookups x 100' }) nearHitRate!: number;
  @ApiProperty({ description: 'Dollars saved: sum of generation_cost of every entry served' }) totalCostSaved!: number;
  @ApiProperty({ description: 'Dollars the stored entries cost to generate' }) totalGenerationCost!: number;
  @ApiPropertyOptional({ description: 'Mean generation time of stored entries, ms', nullable: true }) avgGenerationTimeMs!: number | null;
  @ApiPropertyOptional({ description: 'Creation time of the oldest row', nullable: true }) oldestEntry!: string | null;
  @ApiPropertyOptional({ description: 'Creation time of the newest row', nullable: true }) newestEntry!: string | null;
  @ApiProperty({ description: 'Learner reports ever recorded (POST /exercise-cache/{key}/report)' }) reports!: number;
  @ApiProperty({ description: 'Entries in quarantine now (never served)' }) quarantinedEntries!: number;
}

/** Recorded lookup outcomes of a group; the hit rate is exact hits over all lookups. */
export class LookupOutcomeStatsResponse implements LookupOutcomeStats {
  @ApiProperty({ description: 'Lookups answered with the live entry of the exact context' }) hits!: number;
  @ApiProperty({ description: 'Lookups answered with a near miss' }) nearHits!: number;
  @ApiProperty({ description: 'Lookups answered with an expired entry (stale-while-revalidate, stale-if-error, max-stale)' }) stale!: number;
  @ApiProperty({ description: "Lookups answered with the exercise another caller generated under its lease" }) coalesced!: number;
  @ApiProperty({ description: 'Lookups that found nothing' }) misses!: number;
  @ApiProperty({ description: 'hits + near hits + stale + coalesced + misses' }) totalLookups!: number;
  @ApiProperty({ description: 'hits / lookups x 100 (exact hits only)' }) cacheHitRate!: number;
  @ApiProperty({ description: 'stale / lookups x 100' }) staleRate!: number;
  @ApiProperty({ description: 'Dollars saved: generation_cost of every entry served' }) costSaved!: number;
}

/** Stored entries and recorded lookup outcomes of one namespace or generator version. */
export class EntryGroupStatsResponse extends LookupOutcomeStatsResponse implements GroupStats {
  @ApiPropertyOptional({ description: 'Namespace or generator version; null: entries and lookups without one; "(unknown)": lookups naming one that had no entry', nullable: true, type: String }) name!: string | null;
  @ApiProperty({ description: 'Rows of this group' }) totalEntries!: number;
  @ApiProperty({ description: 'Live rows' }) activeEntries!: number;
  @ApiProperty({ description: 'Expired rows' }) expiredEntries!: number;
  @ApiProperty({ description: 'Sum of usage_count (uses served)' }) totalUsage!: number;
}

/** GET /exercise-cache/stats with namespace and/or generatorVersion: that slice of the cache. */
export class FilteredOverviewStatsResponse extends EntryGroupStatsResponse implements FilteredOverviewStats {
  @ApiPropertyOptional({ description: 'The namespace asked for', nullable: true, type: String }) namespace!: string | null;
  @ApiPropertyOptional({ description: 'The generator version asked for', nullable: true, type: String }) generatorVersion!: string | null;
}

/** GET /exercise-cache/stats/types with namespace and/or generatorVersion: one type of that slice. */
export class FilteredTypeStatsResponse extends LookupOutcomeStatsResponse implements FilteredTypeStats {
  @ApiProperty({ description: 'Exercise type' }) exerciseType!: string;
  @ApiProperty({ description: 'Rows of this type' }) totalEntries!: number;
  @ApiProperty({ description: 'Live rows' }) activeEntries!: number;
  @ApiProperty({ description: 'Expired rows' }) expiredEntries!: number;
  @ApiProperty({ description: 'Sum of usage_count' }) totalUsage!: number;
}

/** Lookup outcomes of one UTC day, live. */
export class DailyOutcomeStatsResponse extends LookupOutcomeStatsResponse implements DailyOutcomeStats {
  @ApiProperty({ description: 'UTC day, YYYY-MM-DD' }) date!: string;
}

/** exercise_cache_stats in camelCase: one row per exercise type. */
export class TypeStatsResponse implements TypeStats, QualityCounts {
  @ApiProperty({ description: 'Exercise type' }) exerciseType!: string;
  @ApiProperty({ description: 'Rows of this type' }) totalEntries!: number;
  @ApiProperty({ description: 'Live rows' }) activeEntries!: number;
  @ApiProperty({ description: 'Expired rows' }) expiredEntries!: number;
  @ApiProperty({ description: 'Distinct contexts (a context may hold several variants)' }) contexts!: number;
  @ApiPropertyOptional({ description: 'Rows per context', nullable: true }) avgVariantsPerContext!: number | null;
  @ApiProperty({ description: 'Sum of usage_count' }) totalUsage!: number;
  @ApiPropertyOptional({ description: 'Mean usage_count', nullable: true }) avgUsage!: number | null;
  @ApiProperty({ description: 'Exact hits recorded' }) hits!: number;
  @ApiProperty({ description: 'Near-miss hits recorded' }) nearHits!: number;
  @ApiProperty({ description: 'Misses recorded' }) misses!: number;
  @ApiProperty({ description: 'Expired entries served' }) stale!: number;
  @ApiProperty({ description: "Exercises another caller generated under its lease, served" }) coalesced!: number;
  @ApiProperty({ description: 'hits + near hits + stale + coalesced + misses' }) totalLookups!: number;
  @ApiProperty({ description: 'hits / lookups x 100' }) cacheHitRate!: number;
  @ApiProperty({ description: 'near hits / lookups x 100' }) nearHitRate!: number;
  @ApiProperty({ description: 'Dollars saved by serving this type from the cache' }) estimatedCostSaved!: number;
  @ApiProperty({ description: 'Dollars the stored entries of this type cost' }) totalGenerationCost!: number;
  @ApiPropertyOptional({ description: 'Mean generation time, ms', nullable: true }) avgGenerationTimeMs!: number | null;
  @ApiProperty({ description: 'Learner reports ever recorded for this type' }) reports!: number;
  @ApiProperty({ description: 'Entries of this type in quarantine now' }) quarantinedEntries!: number;
}

/** A row of get_popular_exercises / get_lru_exercises. */
export class EntrySummaryResponse implements EntrySummary {
  @ApiProperty({ description: 'Cache key' }) cacheKey!: string;
  @ApiProperty({ description: 'Exercise type' }) exerciseType!: string;
  @ApiProperty({ description: 'Difficulty 1..5' }) difficulty!: number;
  @ApiProperty({ description: 'Normalised topics', type: [String] }) topics!: string[];
  @ApiProperty({ description: 'Variant number within its context (1..20)' }) variant!: number;
  @ApiProperty({ description: 'Times served' }) usageCount!: number;
  @ApiProperty({ description: 'Last time served (or stored)' }) lastUsedAt!: string;
  @ApiProperty({ description: 'When stored' }) createdAt!: string;
  @ApiProperty({ description: 'When it expires' }) expiresAt!: string;
  @ApiProperty({ description: 'Dollars it cost to generate' }) generationCost!: number;
}

/** A row of exercise_cache_daily_metrics (as of its last refresh). */
export class DailyMetricsResponse implements DailyMetrics {
  @ApiProperty({ description: 'UTC day, YYYY-MM-DD' }) date!: string;
  @ApiProperty({ description: 'Exercise type' }) exerciseType!: string;
  @ApiProperty({ description: 'Difficulty 1..5' }) difficulty!: number;
  @ApiProperty({ description: 'Entries created that day (still stored)' }) entriesCreated!: number;
  @ApiProperty({ description: 'Lookups that day (hits + near hits + stale + coalesced + misses)' }) totalAccesses!: number;
  @ApiProperty({ description: 'Dollars the entries created that day cost' }) totalCost!: number;
  @ApiProperty({ description: 'Dollars saved that day' }) costSaved!: number;
  @ApiPropertyOptional({ description: 'Mean generation time, ms', nullable: true }) avgGenerationTimeMs!: number | null;
  @ApiProperty({ description: 'Exact hits' }) hits!: number;
  @ApiProperty({ description: 'Near-miss hits' }) nearHits!: number;
  @ApiProperty({ description: 'Misses' }) misses!: number;
  @ApiProperty({ description: 'Expired entries served' }) stale!: number;
  @ApiProperty({ description: 'Exercises another caller generated under its lease, served' }) coalesced!: number;
  @ApiProperty({ description: 'hits / lookups x 100' }) hitRate!: number;
}
