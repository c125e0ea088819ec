import { addOutcomeCounters, type DailyOutcomeStats } from '../cache/statistics-rows';

/** One UTC day of the whole cache: the daily metrics rows of every type and difficulty added up. */
export interface DailyTotals {
  /** YYYY-MM-DD (UTC) */
  date: string;
  hits: number;
  nearHits: number;
  stale: number;
  coalesced: number;
  misses: number;
  lookups: number;
  /** hits / lookups x 100 with two decimals; null on a day without lookups (a gap, not a 0 %). */
  hitRate: number | null;
  entriesCreated: number;
  costSaved: number;
  generationCost: number;
}

/** The fields of an exercise_cache_daily_metrics row (camelCase) that the totals use. */
export interface DailyMetricsRow {
  date: string;
  entriesCreated: number;
  totalCost: number;
  costSaved: number;
  hits: number;
  nearHits: number;
  /** Absent in rows written before stale answers were counted. */
  stale?: number;
  coalesced?: number;
  misses: number;
}

/** One day of lookup outcomes of a slice of the cache (a namespace), replacing the whole cache's. */
export type DailyOutcomesRow = Pick<DailyOutcomeStats, 'date' | 'hits' | 'nearHits' | 'stale' | 'coalesced' | 'misses' | 'costSaved'>;

const DAY_MS = 24 * 3600 * 1000;

/**
 * Adds up the rows per day and returns exactly `days` days ending with `today`, oldest first,
 * with days that have no row as zeros, so every chart shares one continuous x axis.
 */
export function dailyTotals(
  rows: readonly DailyMetricsRow[],
  days: number,
  today: Date = new Date(),
  /** Lookups of one slice (a namespace): these replace the rows' lookup figures; entries stay the whole cache's. */
  sliceOutcomes?: readonly DailyOutcomesRow[],
): DailyTotals[] {
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const byDate = new Map<string, DailyTotals>();
  for (let i = days - 1; i >= 0; i--) {
    const date = new Date(end - i * DAY_MS).toISOString().slice(0, 10);
    byDate.set(date, { date, hits: 0, nearHits: 0, stale: 0, coalesced: 0, misses: 0, lookups: 0, hitRate: null, entriesCreated: 0, costSaved: 0, generationCost: 0 });
  }
  for (const row of rows) {
    const day = byDate.get(row.date);
    if (!day) continue; // outside the window (the view may be a refresh behind or ahead)
    day.entriesCreated += row.entriesCreated;
    day.generationCost += row.totalCost;
    if (!sliceOutcomes) addOutcomeCounters(day, { ...row, stale: row.stale ?? 0, coalesced: row.coalesced ?? 0 });
  }
  for (const row of sliceOutcomes ?? []) {
    const day = byDate.get(row.date);
    if (day) addOutcomeCounters(day, row);
  }
  for (const day of byDate.values()) {
    day.lookups = day.hits + day.nearHits + day.stale + day.coalesced + day.misses;
    day.hitRate = day.lookups > 0 ? Math.round((10000 * day.hits) / day.lookups) / 100 : null;
    // Sums of numeric(30,6) values as doubles: round back to the stored precision.
    day.costSaved = Math.round(day.costSaved * 1e6) / 1e6;
    day.generationCost = Math.round(day.generationCost * 1e6) / 1e6;
  }
  return [...byDate.values()];
}
