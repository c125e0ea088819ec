import { Injectable, Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AppConfig } from '../config/app-config';
import type { CacheSnapshot } from '../cache/cache-statistics.repository';
import { CacheStatisticsService } from '../cache/cache-statistics.service';
import { MetricsRegistry } from './metrics-registry';

/** A scrape storm reads the database at most once per this many milliseconds. */
export const SNAPSHOT_MAX_AGE_MS = 5000;

/**
 * Gauges read from the database when /metrics is scraped: entries by state and the hit ratio
 * (hits / all recorded lookups, across replicas, as of the last usage flush). One query serves
 * both gauges, is shared by concurrent scrapes, reused for SNAPSHOT_MAX_AGE_MS and cut off after
 * HEALTH_DB_TIMEOUT_MS. When the database cannot answer, the gauges keep their last values, so a
 * scrape still succeeds and shows everything else.
 */
@Injectable()
export class CacheGauges {
  private readonly logger = new Logger(CacheGauges.name);
  private latest?: { at: number; snapshot: Promise<CacheSnapshot | undefined> };

  constructor(
    registry: MetricsRegistry,
    private readonly statistics: CacheStatisticsService,
    private readonly config: AppConfig,
  ) {
    const snapshot = () => this.snapshot();
    new Gauge({
      name: 'exercise_cache_entries',
      help: 'Entries in exercise_cache by state (active: expires_at in the future, expired: awaiting cleanup)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const s = await snapshot();
        if (!s) return;
        this.set({ state: 'active' }, s.activeEntries);
        this.set({ state: 'expired' }, s.expiredEntries);
      },
    });
    new Gauge({
      name: 'exercise_cache_hit_ratio',
      help: 'Recorded hits / all recorded lookups (hits, near hits, stale, coalesced, misses), 0..1; NaN before the first lookup',
      registers: [registry],
      async collect() {
        const s = await snapshot();
        if (!s) return;
        const lookups = s.hits + s.nearHits + s.stale + s.coalesced + s.misses;
        this.set(lookups > 0 ? s.hits / lookups : Number.NaN);
      },
    });
  }

  /** The cached snapshot, or a fresh one when it is older than SNAPSHOT_MAX_AGE_MS. */
  snapshot(): Promise<CacheSnapshot | undefined> {
    const now = Date.now();
    if (!this.latest || now - this.latest.at >= SNAPSHOT_MAX_AGE_MS) {
      this.latest = { at: now, snapshot: this.read() };
    }
    return this.latest.snapshot;
  }

  private async read(): Promise<CacheSnapshot | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.config.HEALTH_DB_TIMEOUT_MS} ms`)), this.config.HEALTH_DB_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.statistics.snapshot(), timeout]);
    } catch (error) {
      this.logger.warn(`cache gauges not updated, the database did not answer: ${(error as Error).message}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
