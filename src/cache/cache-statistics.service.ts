import { MAX_LIST_LIMIT, MAX_METRICS_DAYS, assertIntegerInRange } from './context-rules';
import type { CacheSnapshot, CacheStatisticsRepository, DailyMetrics, EntrySummary, OverviewStats, TypeStats } from './cache-statistics.repository';
import type { OutcomeStatisticsRepository } from './outcome-statistics.repository';
import type { DailyOutcomeStats, FilteredOverviewStats, FilteredTypeStats, GroupStats, StatsFilter } from './statistics-rows';
import type { UsageBuffer } from './usage-buffer';

/**
 * What the cache holds and how it is used: the guide's views, the lists the dashboard shows, and
 * entries and lookup outcomes per namespace and generator version. Every read but dailyMetrics
 * first writes this replica's buffered counters, so it includes them.
 */
export class CacheStatisticsService {
  constructor(
    private readonly repository: CacheStatisticsRepository,
    private readonly outcomes: OutcomeStatisticsRepository,
    private readonly usage: UsageBuffer,
  ) {}

  /** Overall statistics (exercise_cache_overview), including this replica's unflushed lookups. */
  async stats(): Promise<OverviewStats> {
    await this.usage.flush();
    return this.repository.overview();
  }

  async statsByType(): Promise<TypeStats[]> {
    await this.usage.flush();
    return this.repository.byType();
  }

  /** Entries and lookup outcomes of one namespace and/or generator version (all of the cache with an empty filter). */
  async statsOf(filter: StatsFilter): Promise<FilteredOverviewStats> {
    await this.usage.flush();
    return this.outcomes.overview(filter);
  }

  /** Per exercise type, within one namespace and/or generator version. */
  async statsByTypeOf(filter: StatsFilter): Promise<FilteredTypeStats[]> {
    await this.usage.flush();
    return this.outcomes.byType(filter);
  }

  /** Stored entries and lookup outcomes per namespace (name null: none), optionally within a generator version. */
  async statsByNamespace(filter: StatsFilter = {}): Promise<GroupStats[]> {
    await this.usage.flush();
    return this.outcomes.byGroup('namespace', filter);
  }

  /** Stored entries and lookup outcomes per generator version (name null: none), optionally within a namespace. */
  async statsByGeneratorVersion(filter: StatsFilter = {}): Promise<GroupStats[]> {
    await this.usage.flush();
    return this.outcomes.byGroup('generator_version', filter);
  }

  /** Lookup outcomes per UTC day, live (not the materialized view), within a filter. */
  async dailyOutcomes(days: number, filter: StatsFilter = {}): Promise<DailyOutcomeStats[]> {
    assertIntegerInRange(days, 'days', 1, 3660);
    await this.usage.flush();
    return this.outcomes.daily(days, filter);
  }

  async popular(limit = 10): Promise<EntrySummary[]> {
    assertIntegerInRange(limit, 'limit', 1, MAX_LIST_LIMIT);
    await this.usage.flush();
    return this.repository.popular(limit);
  }

  async leastRecentlyUsed(limit = 10): Promise<EntrySummary[]> {
    assertIntegerInRange(limit, 'limit', 1, MAX_LIST_LIMIT);
    await this.usage.flush();
    return this.repository.leastRecentlyUsed(limit);
  }

  /** Rows of exercise_cache_daily_metrics for the last `days` UTC days (as of its last refresh). */
  async dailyMetrics(days = 7): Promise<DailyMetrics[]> {
    assertIntegerInRange(days, 'days', 1, MAX_METRICS_DAYS);
    return this.repository.dailyMetrics(days);
  }

  /**
   * Live and expired entries and the lookup outcomes recorded by every replica (as of their last
   * flush; this replica's buffer is not written first, so a scrape never writes).
   */
  snapshot(): Promise<CacheSnapshot> {
    return this.repository.snapshot();
  }

  /** Entries that can be served now: what MAX_ENTRIES bounds. */
  countActive(): Promise<number> {
    return this.repository.countActive();
  }
}
