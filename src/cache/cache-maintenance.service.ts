import type { CacheHooks } from './cache-hooks';
import type { CacheSettings } from './cache-settings';
import type { CacheStatisticsRepository } from './cache-statistics.repository';
import { MAX_ENTRIES_LIMIT, assertIntegerInRange } from './context-rules';
import type { ExerciseCacheRepository } from './exercise-cache.repository';
import type { InvalidationBus } from './invalidation-bus';
import type { L1Cache } from './l1-cache';
import type { UsageBuffer } from './usage-buffer';

/**
 * Housekeeping that keeps the table bounded and the daily view current: what the scheduled jobs
 * (src/maintenance) and the library's maintenance calls run. Removing entries by name is
 * CacheInvalidationService's job.
 */
export class CacheMaintenanceService {
  constructor(
    private readonly repository: ExerciseCacheRepository,
    private readonly statistics: CacheStatisticsRepository,
    private readonly settings: CacheSettings,
    private readonly l1: L1Cache,
    private readonly usage: UsageBuffer,
    private readonly bus: InvalidationBus,
    private readonly hooks: CacheHooks,
  ) {}

  async cleanupExpired(): Promise<number> {
    const deleted = await this.repository.cleanupExpired();
    this.hooks.expired?.(deleted);
    if (deleted > 0) await this.bus.publish({ all: true }).catch(() => undefined);
    return deleted;
  }

  async evictLeastRecentlyUsed(maxEntries = this.settings.maxEntries): Promise<number> {
    assertIntegerInRange(maxEntries, 'maxEntries', 0, MAX_ENTRIES_LIMIT);
    await this.usage.flush(); // recency must include the latest hits
    const deleted = await this.repository.evictLeastRecentlyUsed(maxEntries);
    this.hooks.evicted?.(deleted);
    if (deleted > 0) {
      this.l1.clear();
      await this.bus.publish({ all: true }).catch(() => undefined);
    }
    return deleted;
  }

  /** Refreshes the daily metrics view; returns its rows (what a refresh run records as affected). */
  async refreshMetrics(): Promise<number> {
    await this.usage.flush();
    await this.repository.refreshMetrics();
    return this.statistics.countDailyMetricsRows();
  }

  /** Writes buffered usage and hit/miss counters now. */
  flushUsage(): Promise<void> {
    return this.usage.flush();
  }
}
