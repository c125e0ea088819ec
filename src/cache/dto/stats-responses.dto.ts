import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** exercise_cache_overview in camelCase. Rates are percentages with two decimals. */
export class OverviewStatsResponse {
  @ApiProperty({ description: 'Rows in exercise_cache, live or expired' }) totalEntries!: number;
  @ApiProperty({ description: 'Rows with expires_at > now()' }) activeEntries!: number;
  @ApiProperty({ description: 'Rows with expires_at <= now(), waiting for cleanup' }) expiredEntries!: number;
  @ApiProperty({ description: 'Sum of usage_count over all rows' }) totalUsage!: number;
  @ApiProperty({ description: 'Lookups answered with the exact context (recorded outcomes)' }) totalHits!: number;
  @ApiProperty({ description: 'Lookups answered with a near miss (overlapping topics)' }) nearHits!: number;
  @ApiProperty({ description: 'Lookups that found nothing' }) totalMisses!: number;
  @ApiProperty({ description: 'hits + near hits + misses' }) totalLookups!: number;
  @ApiProperty({ description: 'hits / lookups x 100' }) cacheHitRate!: number;
  @ApiProperty({ description: 'near hits / lookups x 100' }) nearHitRate!: number;
  @ApiProperty({ description: 'Dollars saved: sum of generation_cost of every entry served' }) totalCostSaved!: number;
  @ApiProperty({ description: 'Dollars the stored entries cost to generate' }) totalGenerationCost!: number;
  @ApiPropertyOptional({ description: 'Mean generation time of stored entries, ms', nullable: true }) avgGenerationTimeMs!: number | null;
  @ApiPropertyOptional({ description: 'Creation time of the oldest row', nullable: true }) oldestEntry!: string | null;
  @ApiPropertyOptional({ description: 'Creation time of the newest row', nullable: true }) newestEntry!: string | null;
  @ApiProperty({ description: 'Learner reports ever recorded (POST /exercise-cache/{key}/report)' }) reports!: number;
  @ApiProperty({ description: 'Entries in quarantine now (never served)' }) quarantinedEntries!: number;
}

/** Stored entries of one namespace or generator version. */
export class EntryGroupStatsResponse {
  @ApiPropertyOptional({ description: 'Namespace or generator version; null: entries without one', nullable: true }) name!: string | null;
  @ApiProperty({ description: 'Rows of this group' }) totalEntries!: number;
  @ApiProperty({ description: 'Live rows' }) activeEntries!: number;
  @ApiProperty({ description: 'Expired rows' }) expiredEntries!: number;
  @ApiProperty({ description: 'Sum of usage_count (uses served)' }) totalUsage!: number;
}

/** exercise_cache_stats in camelCase: one row per exercise type. */
export class TypeStatsResponse {
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
  @ApiProperty({ description: 'hits + near hits + misses' }) totalLookups!: number;
  @ApiProperty({ description: 'hits / lookups x 100' }) cacheHitRate!: number;
  @ApiProperty({ description: 'near hits / lookups x 100' }) nearHitRate!: number;
  @ApiProperty({ description: 'Dollars saved by serving this type from the cache' }) estimatedCostSaved!: number;
  @ApiProperty({ description: 'Dollars the stored entries of this type cost' }) totalGenerationCost!: number;
  @ApiPropertyOptional({ description: 'Mean generation time, ms', nullable: true }) avgGenerationTimeMs!: number | null;
  @ApiProperty({ description: 'Learner reports ever recorded for this type' }) reports!: number;
  @ApiProperty({ description: 'Entries of this type in quarantine now' }) quarantinedEntries!: number;
}

/** A row of get_popular_exercises / get_lru_exercises. */
export class EntrySummaryResponse {
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
export class DailyMetricsResponse {
  @ApiProperty({ description: 'UTC day, YYYY-MM-DD' }) date!: string;
  @ApiProperty({ description: 'Exercise type' }) exerciseType!: string;
  @ApiProperty({ description: 'Difficulty 1..5' }) difficulty!: number;
  @ApiProperty({ description: 'Entries created that day (still stored)' }) entriesCreated!: number;
  @ApiProperty({ description: 'Lookups that day (hits + near hits + misses)' }) totalAccesses!: number;
  @ApiProperty({ description: 'Dollars the entries created that day cost' }) totalCost!: number;
  @ApiProperty({ description: 'Dollars saved that day' }) costSaved!: number;
  @ApiPropertyOptional({ description: 'Mean generation time, ms', nullable: true }) avgGenerationTimeMs!: number | null;
  @ApiProperty({ description: 'Exact hits' }) hits!: number;
  @ApiProperty({ description: 'Near-miss hits' }) nearHits!: number;
  @ApiProperty({ description: 'Misses' }) misses!: number;
  @ApiProperty({ description: 'hits / lookups x 100' }) hitRate!: number;
}
