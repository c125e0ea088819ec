import type { Pool, QueryConfig, QueryResultRow } from 'pg';
import type { CacheSqlNames } from '../database/sql-names';
import { notMigratedOr } from './cache-not-migrated.error';

/*
 * Each statistic twice: the row as PostgreSQL hands it over (bigint and numeric arrive as strings,
 * timestamps as Dates) and the shape the cache answers with (camelCase, numbers, ISO strings).
 * The mapping between them happens once, here; services, controllers and the dashboard pass the
 * typed shape on. Counts and sums are far below 2^53, so numbers lose nothing.
 */

/** exercise_cache_overview (get_overall_cache_stats). Rates are percentages with two decimals. */
export interface OverviewStats {
  totalEntries: number;
  activeEntries: number;
  expiredEntries: number;
  totalUsage: number;
  totalHits: number;
  nearHits: number;
  totalMisses: number;
  totalLookups: number;
  cacheHitRate: number;
  nearHitRate: number;
  totalCostSaved: number;
  totalGenerationCost: number;
  avgGenerationTimeMs: number | null;
  oldestEntry: string | null;
  newestEntry: string | null;
  stale: number;
  coalesced: number;
}

interface OverviewRow {
  total_entries: string;
  active_entries: string;
  expired_entries: string;
  total_usage: string;
  total_hits: string;
  near_hits: string;
  total_misses: string;
  total_lookups: string;
  cache_hit_rate: string;
  near_hit_rate: string;
  total_cost_saved: string;
  total_generation_cost: string;
  avg_generation_time_ms: string | null;
  oldest_entry: Date | null;
  newest_entry: Date | null;
  stale: string;
  coalesced: string;
}

/** exercise_cache_stats (get_exercise_cache_stats): one row per exercise type. */
export interface TypeStats {
  exerciseType: string;
  totalEntries: number;
  activeEntries: number;
  expiredEntries: number;
  contexts: number;
  avgVariantsPerContext: number | null;
  totalUsage: number;
  avgUsage: number | null;
  hits: number;
  nearHits: number;
  misses: number;
  totalLookups: number;
  cacheHitRate: number;
  nearHitRate: number;
  estimatedCostSaved: number;
  totalGenerationCost: number;
  avgGenerationTimeMs: number | null;
  stale: number;
  coalesced: number;
}

interface TypeStatsRow {
  exercise_type: string;
  total_entries: string;
  active_entries: string;
  expired_entries: string;
  contexts: string;
  avg_variants_per_context: string | null;
  total_usage: string;
  avg_usage: string | null;
  hits: string;
  near_hits: string;
  misses: string;
  total_lookups: string;
  cache_hit_rate: string;
  near_hit_rate: string;
  estimated_cost_saved: string;
  total_generation_cost: string;
  avg_generation_time_ms: string | null;
  stale: string;
  coalesced: string;
}

/** A row of get_popular_exercises / get_lru_exercises. */
export interface EntrySummary {
  cacheKey: string;
  exerciseType: string;
  difficulty: number;
  topics: string[];
  variant: number;
  usageCount: number;
  lastUsedAt: string;
  createdAt: string;
  expiresAt: string;
  generationCost: number;
}

interface EntrySummaryRow {
  cache_key: string;
  exercise_type: string;
  difficulty: number;
  topics: string[];
  variant: number;
  usage_count: number;
  last_used_at: Date;
  created_at: Date;
  expires_at: Date;
  generation_cost: string;
}

/** A row of exercise_cache_daily_metrics: one UTC day, type and difficulty (as of its last refresh). */
export interface DailyMetrics {
  /** YYYY-MM-DD (UTC) */
  date: string;
  exerciseType: string;
  difficulty: number;
  entriesCreated: number;
  totalAccesses: number;
  totalCost: number;
  costSaved: number;
  avgGenerationTimeMs: number | null;
  hits: number;
  nearHits: number;
  misses: number;
  stale: number;
  coalesced: number;
  hitRate: number;
}

interface DailyMetricsRow {
  date: string;
  exercise_type: string;
  difficulty: number;
  entries_created: string;
  total_accesses: string;
  total_cost: string;
  cost_saved: string;
  avg_generation_time_ms: string | null;
  hits: string;
  near_hits: string;
  misses: string;
  stale: string;
  coalesced: string;
  hit_rate: string;
}

/** Entry counts and recorded lookup outcomes across replicas: what the /metrics gauges show. */
export interface CacheSnapshot {
  activeEntries: number;
  expiredEntries: number;
  hits: number;
  nearHits: number;
  stale: number;
  coalesced: number;
  misses: number;
}

interface SnapshotRow {
  active: string;
  expired: string;
  hits: string;
  near_hits: string;
  stale: string;
  coalesced: string;
  misses: string;
}

const orNull = (value: string | null): number | null => (value === null ? null : Number(value));
const isoOrNull = (value: Date | null): string | null => (value === null ? null : value.toISOString());

const toOverview = (row: OverviewRow): OverviewStats => ({
  totalEntries: Number(row.total_entries),
  activeEntries: Number(row.active_entries),
  expiredEntries: Number(row.expired_entries),
  totalUsage: Number(row.total_usage),
  totalHits: Number(row.total_hits),
  nearHits: Number(row.near_hits),
  totalMisses: Number(row.total_misses),
  totalLookups: Number(row.total_lookups),
  cacheHitRate: Number(row.cache_hit_rate),
  nearHitRate: Number(row.near_hit_rate),
  totalCostSaved: Number(row.total_cost_saved),
  totalGenerationCost: Number(row.total_generation_cost),
  avgGenerationTimeMs: orNull(row.avg_generation_time_ms),
  oldestEntry: isoOrNull(row.oldest_entry),
  newestEntry: isoOrNull(row.newest_entry),
  stale: Number(row.stale),
  coalesced: Number(row.coalesced),
});

const toTypeStats = (row: TypeStatsRow): TypeStats => ({
  exerciseType: row.exercise_type,
  totalEntries: Number(row.total_entries),
  activeEntries: Number(row.active_entries),
  expiredEntries: Number(row.expired_entries),
  contexts: Number(row.contexts),
  avgVariantsPerContext: orNull(row.avg_variants_per_context),
  totalUsage: Number(row.total_usage),
  avgUsage: orNull(row.avg_usage),
  hits: Number(row.hits),
  nearHits: Number(row.near_hits),
  misses: Number(row.misses),
  totalLookups: Number(row.total_lookups),
  cacheHitRate: Number(row.cache_hit_rate),
  nearHitRate: Number(row.near_hit_rate),
  estimatedCostSaved: Number(row.estimated_cost_saved),
  totalGenerationCost: Number(row.total_generation_cost),
  avgGenerationTimeMs: orNull(row.avg_generation_time_ms),
  stale: Number(row.stale),
  coalesced: Number(row.coalesced),
});

const toEntrySummary = (row: EntrySummaryRow): EntrySummary => ({
  cacheKey: row.cache_key,
  exerciseType: row.exercise_type,
  difficulty: row.difficulty,
  topics: row.topics,
  variant: row.variant,
  usageCount: row.usage_count,
  lastUsedAt: row.last_used_at.toISOString(),
  createdAt: row.created_at.toISOString(),
  expiresAt: row.expires_at.toISOString(),
  generationCost: Number(row.generation_cost),
});

const toDailyMetrics = (row: DailyMetricsRow): DailyMetrics => ({
  date: row.date,
  exerciseType: row.exercise_type,
  difficulty: row.difficulty,
  entriesCreated: Number(row.entries_created),
  totalAccesses: Number(row.total_accesses),
  totalCost: Number(row.total_cost),
  costSaved: Number(row.cost_saved),
  avgGenerationTimeMs: orNull(row.avg_generation_time_ms),
  hits: Number(row.hits),
  nearHits: Number(row.near_hits),
  misses: Number(row.misses),
  stale: Number(row.stale),
  coalesced: Number(row.coalesced),
  hitRate: Number(row.hit_rate),
});

/**
 * The reads of the cache's statistics that the guide's views and functions answer, the daily
 * metrics view, and the counts health and /metrics ask for. Figures per namespace and generator
 * version are OutcomeStatisticsRepository's; writes of the counters stay with
 * ExerciseCacheRepository (writeUsage).
 */
export class CacheStatisticsRepository {
  constructor(
    private readonly pool: Pool,
    private readonly names: CacheSqlNames,
  ) {}

  private async rows<R extends QueryResultRow>(config: QueryConfig | string, values?: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(config as QueryConfig, values)).rows;
    } catch (error) {
      throw notMigratedOr(error);
    }
  }

  async overview(): Promise<OverviewStats> {
    const [row] = await this.rows<OverviewRow>(`SELECT * FROM ${this.names.overviewView}`);
    return toOverview(row);
  }

  async byType(): Promise<TypeStats[]> {
    return (await this.rows<TypeStatsRow>(`SELECT * FROM ${this.names.statsView} ORDER BY total_lookups DESC, exercise_type`)).map(toTypeStats);
  }

  async popular(limit: number): Promise<EntrySummary[]> {
    return (await this.rows<EntrySummaryRow>(`SELECT * FROM ${this.names.popularExercises}($1::int)`, [limit])).map(toEntrySummary);
  }

  async leastRecentlyUsed(limit: number): Promise<EntrySummary[]> {
    return (await this.rows<EntrySummaryRow>(`SELECT * FROM ${this.names.lruExercises}($1::int)`, [limit])).map(toEntrySummary);
  }

  async dailyMetrics(days: number): Promise<DailyMetrics[]> {
    const rows = await this.rows<DailyMetricsRow>(
      `SELECT to_char(date, 'YYYY-MM-DD') AS date, exercise_type, difficulty, entries_created, total_accesses,
              total_cost, cost_saved, avg_generation_time_ms, hits, near_hits, misses, stale, coalesced, hit_rate
       FROM ${this.names.dailyMetrics}
       WHERE date > (now() AT TIME ZONE 'UTC')::date - $1::int
       ORDER BY date DESC, cost_saved DESC, exercise_type, difficulty`,
      [days],
    );
    return rows.map(toDailyMetrics);
  }

  /** Rows in the daily metrics view: what a refresh reports as affected. */
  async countDailyMetricsRows(): Promise<number> {
    const [row] = await this.rows<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.names.dailyMetrics}`);
    return row.n;
  }

  /** Entries that can be served (expires_at in the future): what MAX_ENTRIES bounds. */
  async countActive(): Promise<number> {
    const [row] = await this.rows<{ n: number }>({
      name: this.names.statement('exercise_cache_count_active'),
      text: `SELECT count(*)::int AS n FROM ${this.names.exerciseCache} WHERE expires_at > now()`,
    });
    return row.n;
  }

  /**
   * Entry counts and recorded lookup outcomes in one round trip. Counting on expires_at alone
   * lets PostgreSQL answer from idx_exercise_expires_at; the lookup stats have one row per day,
   * type and difficulty, so summing them is cheap.
   */
  async snapshot(): Promise<CacheSnapshot> {
    const [row] = await this.rows<SnapshotRow>({
      name: this.names.statement('exercise_cache_metrics_snapshot'),
      text: `SELECT e.active, e.expired, l.hits, l.near_hits, l.stale, l.coalesced, l.misses
             FROM (SELECT count(*) FILTER (WHERE expires_at > now()) AS active,
                          count(*) FILTER (WHERE expires_at <= now()) AS expired
                   FROM ${this.names.exerciseCache}) e
             CROSS JOIN (SELECT coalesce(sum(hits), 0) AS hits, coalesce(sum(near_hits), 0) AS near_hits,
                                coalesce(sum(stale), 0) AS stale, coalesce(sum(coalesced), 0) AS coalesced,
                                coalesce(sum(misses), 0) AS misses
                         FROM ${this.names.lookupStats}) l`,
    });
    return {
      activeEntries: Number(row.active),
      expiredEntries: Number(row.expired),
      hits: Number(row.hits),
      nearHits: Number(row.near_hits),
      stale: Number(row.stale),
      coalesced: Number(row.coalesced),
      misses: Number(row.misses),
    };
  }
}
