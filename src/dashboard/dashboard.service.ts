import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CacheStatisticsService } from '../cache/cache-statistics.service';
import { QuarantinedEntryResponse } from '../quality/quarantine/quarantine.dto';
import { QuarantineService } from '../quality/quarantine/quarantine.service';
import { dailyTotals } from './daily-totals';
import type { DashboardDataResponse } from './dto/dashboard-data.dto';

const LIST_LIMIT = 10;

/** Gathers what the dashboard shows from the cache's own statistics; no queries of its own. */
@Injectable()
export class DashboardService {
  constructor(
    private readonly statistics: CacheStatisticsService,
    private readonly config: AppConfig,
    private readonly quarantine: QuarantineService,
  ) {}

  /** With `namespace`, the totals, daily lookups and versions are that namespace's; entries and lists stay the whole cache's. */
  async data(days: number, namespace?: string): Promise<DashboardDataResponse> {
    const slice = { namespace };
    // stats() flushes the usage buffer first, so the other reads see the same counters.
    const overview = await this.quarantine.withOverallCounts(await this.statistics.stats());
    const [byType, daily, popular, lru, quarantined, lookups, namespaces, generatorVersions, sliceDaily] = await Promise.all([
      this.statistics.statsByType().then((rows) => this.quarantine.withCountsByType(rows)),
      this.statistics.dailyMetrics(days),
      this.statistics.popular(LIST_LIMIT),
      this.statistics.leastRecentlyUsed(LIST_LIMIT),
      this.quarantine.list(LIST_LIMIT),
      this.statistics.statsOf(slice),
      this.statistics.statsByNamespace(),
      this.statistics.statsByGeneratorVersion(slice),
      namespace === undefined ? Promise.resolve(undefined) : this.statistics.dailyOutcomes(days, slice),
    ]);
    const { activeEntries, expiredEntries } = overview;
    return {
      generatedAt: new Date().toISOString(),
      days,
      size: {
        activeEntries,
        expiredEntries,
        maxEntries: this.config.MAX_ENTRIES,
        usedPercent: Math.round((1000 * activeEntries) / this.config.MAX_ENTRIES) / 10,
      },
      overview,
      byType,
      daily: dailyTotals(daily, days, new Date(), sliceDaily),
      namespace: namespace ?? null,
      lookups,
      namespaces,
      generatorVersions,
      popular,
      evictionCandidates: lru,
      quarantine: quarantined.map(QuarantinedEntryResponse.from),
    };
  }
}
