import { MAX_LIST_LIMIT, MAX_METRICS_DAYS, assertIntegerInRange } from './context-rules';
import type { ExerciseCacheRepository } from './exercise-cache.repository';
import type { UsageBuffer } from './usage-buffer';

/**
 * What the cache holds and how it is used: the guide's views and the lists the dashboard shows.
 * Every read but dailyMetrics first writes this replica's buffered counters, so it includes them.
 */
export class CacheStatisticsService {
  constructor(
    private readonly repository: ExerciseCacheRepository,
    private readonly usage: UsageBuffer,
  ) {}

  /** Overall statistics (exercise_cache_overview), including this replica's unflushed lookups. */
  async stats(): Promise<Record<string, unknown>> {
    await this.usage.flush();
    return this.repository.overallStats();
  }

  async statsByType(): Promise<Record<string, unknown>[]> {
    await this.usage.flush();
    return this.repository.statsByType();
  }

  /** Stored entries per namespace (name null: entries without one). */
  async statsByNamespace(): Promise<Record<string, unknown>[]> {
    await this.usage.flush();
    return this.repository.entriesBy('namespace');
  }

  /** Stored entries per generator version (name null: entries written without one). */
  async statsByGeneratorVersion(): Promise<Record<string, unknown>[]> {
    await this.usage.flush();
    return this.repository.entriesBy('generator_version');
  }

  async popular(limit = 10): Promise<Record<string, unknown>[]> {
    assertIntegerInRange(limit, 'limit', 1, MAX_LIST_LIMIT);
    await this.usage.flush();
    return this.repository.popular(limit);
  }

  async leastRecentlyUsed(limit = 10): Promise<Record<string, unknown>[]> {
    assertIntegerInRange(limit, 'limit', 1, MAX_LIST_LIMIT);
    await this.usage.flush();
    return this.repository.leastRecentlyUsed(limit);
  }

  /** Rows of exercise_cache_daily_metrics for the last `days` UTC days (as of its last refresh). */
  async dailyMetrics(days = 7): Promise<Record<string, unknown>[]> {
    assertIntegerInRange(days, 'days', 1, MAX_METRICS_DAYS);
    return this.repository.dailyMetrics(days);
  }
}
