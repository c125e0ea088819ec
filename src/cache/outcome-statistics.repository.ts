import type { Pool, QueryResultRow } from 'pg';
import type { CacheSqlNames } from '../database/sql-names';
import { notMigratedOr } from './cache-not-migrated.error';
import type { DailyOutcomeStats, FilteredOverviewStats, FilteredTypeStats, GroupStats, LookupOutcomeStats, StatsFilter } from './statistics-rows';

/** The grouping a statistics query adds up by. */
type GroupColumn = 'namespace' | 'generator_version' | 'exercise_type';

/** Columns as pg hands them over: bigint and numeric as strings. */
interface OutcomeColumns {
  hits: string;
  near_hits: string;
  stale: string;
  coalesced: string;
  misses: string;
  total_lookups: string;
  cache_hit_rate: string;
  stale_rate: string;
  cost_saved: string;
}

interface GroupRow extends OutcomeColumns {
  name: string;
  total_entries: string;
  active_entries: string;
  expired_entries: string;
  total_usage: string;
}

interface DailyRow extends OutcomeColumns {
  date: string;
}

/** SQL of the outcome figures of summed lookup columns (hits, near_hits, ... as h, n, s, c, m). */
const OUTCOME_FIGURES = `
  coalesce(l.hits, 0) AS hits, coalesce(l.near_hits, 0) AS near_hits, coalesce(l.stale, 0) AS stale,
  coalesce(l.coalesced, 0) AS coalesced, coalesce(l.misses, 0) AS misses,
  coalesce(l.hits + l.near_hits + l.stale + l.coalesced + l.misses, 0) AS total_lookups,
  coalesce(round(100.0 * l.hits / nullif(l.hits + l.near_hits + l.stale + l.coalesced + l.misses, 0), 2), 0) AS cache_hit_rate,
  coalesce(round(100.0 * l.stale / nullif(l.hits + l.near_hits + l.stale + l.coalesced + l.misses, 0), 2), 0) AS stale_rate,
  coalesce(l.cost_saved, 0) AS cost_saved`;

const LOOKUP_SUMS = `sum(hits) AS hits, sum(near_hits) AS near_hits, sum(stale) AS stale, sum(coalesced) AS coalesced,
  sum(misses) AS misses, sum(cost_saved) AS cost_saved`;

/** Both tables keep "none" differently (exercise_cache: NULL, lookup stats: ''); filters name real values only. */
const ENTRY_FILTER = `($1::varchar IS NULL OR namespace = $1::varchar) AND ($2::varchar IS NULL OR generator_version = $2::varchar)`;

const outcomesOf = (row: OutcomeColumns): LookupOutcomeStats => ({
  hits: Number(row.hits),
  nearHits: Number(row.near_hits),
  stale: Number(row.stale),
  coalesced: Number(row.coalesced),
  misses: Number(row.misses),
  totalLookups: Number(row.total_lookups),
  cacheHitRate: Number(row.cache_hit_rate),
  staleRate: Number(row.stale_rate),
  costSaved: Number(row.cost_saved),
});

const groupOf = (row: GroupRow): GroupStats => ({
  name: row.name === '' ? null : row.name,
  totalEntries: Number(row.total_entries),
  activeEntries: Number(row.active_entries),
  expiredEntries: Number(row.expired_entries),
  totalUsage: Number(row.total_usage),
  ...outcomesOf(row),
});

/**
 * Statistics that the guide's views cannot give: stored entries and recorded lookup outcomes
 * per namespace and generator version, and any statistic narrowed to one of them. Reads only.
 */
export class OutcomeStatisticsRepository {
  constructor(
    private readonly pool: Pool,
    private readonly names: CacheSqlNames,
  ) {}

  /** Entries and outcomes per namespace, generator version or type (name null: none), most looked up first. */
  async byGroup(group: GroupColumn, filter: StatsFilter = {}): Promise<GroupStats[]> {
    const { rows } = await this.query<GroupRow>(
      `WITH entries AS (
         SELECT coalesce(${group}, '') AS name, count(*) AS total_entries,
                count(*) FILTER (WHERE expires_at > now()) AS active_entries,
                count(*) FILTER (WHERE expires_at <= now()) AS expired_entries,
                coalesce(sum(usage_count), 0) AS total_usage
         FROM ${this.names.exerciseCache} WHERE ${ENTRY_FILTER}
         GROUP BY 1
       ), lookups AS (
         SELECT ${group} AS name, ${LOOKUP_SUMS}
         FROM ${this.names.lookupStats} WHERE ${ENTRY_FILTER}
         GROUP BY 1
       )
       SELECT name, coalesce(e.total_entries, 0) AS total_entries, coalesce(e.active_entries, 0) AS active_entries,
              coalesce(e.expired_entries, 0) AS expired_entries, coalesce(e.total_usage, 0) AS total_usage, ${OUTCOME_FIGURES}
       FROM entries e FULL JOIN lookups l USING (name)
       ORDER BY total_lookups DESC, total_entries DESC, name`,
      [filter.namespace ?? null, filter.generatorVersion ?? null],
    );
    return rows.map(groupOf);
  }

  /** The overview narrowed to a namespace and/or generator version. */
  async overview(filter: StatsFilter): Promise<FilteredOverviewStats> {
    const { rows } = await this.query<GroupRow>(
      `WITH entries AS (
         SELECT count(*) AS total_entries, count(*) FILTER (WHERE expires_at > now()) AS active_entries,
                count(*) FILTER (WHERE expires_at <= now()) AS expired_entries, coalesce(sum(usage_count), 0) AS total_usage
         FROM ${this.names.exerciseCache} WHERE ${ENTRY_FILTER}
       ), lookups AS (
         SELECT ${LOOKUP_SUMS} FROM ${this.names.lookupStats} WHERE ${ENTRY_FILTER}
       )
       SELECT '' AS name, e.total_entries, e.active_entries, e.expired_entries, e.total_usage, ${OUTCOME_FIGURES}
       FROM entries e CROSS JOIN lookups l`,
      [filter.namespace ?? null, filter.generatorVersion ?? null],
    );
    return { ...groupOf(rows[0]), name: null, namespace: filter.namespace ?? null, generatorVersion: filter.generatorVersion ?? null };
  }

  /** Per exercise type, narrowed to a namespace and/or generator version. */
  async byType(filter: StatsFilter): Promise<FilteredTypeStats[]> {
    const groups = await this.byGroup('exercise_type', filter);
    return groups.map(({ name, ...figures }) => ({ exerciseType: name ?? '', ...figures }));
  }

  /** Lookup outcomes per UTC day for the last `days` days (live, not the materialized view), oldest first. */
  async daily(days: number, filter: StatsFilter = {}): Promise<DailyOutcomeStats[]> {
    const { rows } = await this.query<DailyRow>(
      `SELECT to_char(l.day, 'YYYY-MM-DD') AS date, ${OUTCOME_FIGURES}
       FROM (SELECT day, ${LOOKUP_SUMS} FROM ${this.names.lookupStats}
             WHERE ${ENTRY_FILTER} AND day > (now() AT TIME ZONE 'UTC')::date - $3::int
             GROUP BY day) l
       ORDER BY l.day`,
      [filter.namespace ?? null, filter.generatorVersion ?? null, days],
    );
    return rows.map((row) => ({ date: row.date, ...outcomesOf(row) }));
  }

  private async query<R extends QueryResultRow>(text: string, values: unknown[]) {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw notMigratedOr(error);
    }
  }
}
