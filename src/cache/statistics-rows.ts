/** Narrows statistics to one namespace and/or one generator version (absent: all). */
export interface StatsFilter {
  namespace?: string;
  generatorVersion?: string;
}

/**
 * Recorded lookup outcomes of a group. The hit rate is exact hits over all lookups: near hits,
 * stale and coalesced answers are lookups too, never hits.
 */
export interface LookupOutcomeStats {
  /** Lookups answered with the exact context's live entry. */
  hits: number;
  /** Lookups answered with a near miss (overlapping topics). */
  nearHits: number;
  /** Lookups answered with an expired entry (stale-while-revalidate, stale-if-error, max-stale). */
  stale: number;
  /** Lookups answered with the exercise another caller generated under its lease. */
  coalesced: number;
  /** Lookups that found nothing. */
  misses: number;
  /** hits + near hits + stale + coalesced + misses. */
  totalLookups: number;
  /** hits / lookups x 100, two decimals. */
  cacheHitRate: number;
  /** stale / lookups x 100, two decimals. */
  staleRate: number;
  /** Dollars saved: generation_cost of every entry served. */
  costSaved: number;
}

/** The counters of lookup outcomes that add up: a day's totals, a buffered outcome row. */
export type OutcomeCounters = Pick<LookupOutcomeStats, 'hits' | 'nearHits' | 'stale' | 'coalesced' | 'misses' | 'costSaved'>;

/** Adds the outcome counters of `counts` into `total`. */
export function addOutcomeCounters(total: OutcomeCounters, counts: OutcomeCounters): void {
  total.hits += counts.hits;
  total.nearHits += counts.nearHits;
  total.stale += counts.stale;
  total.coalesced += counts.coalesced;
  total.misses += counts.misses;
  total.costSaved += counts.costSaved;
}

/** Stored entries and recorded outcomes of one namespace or generator version (null: none). */
export interface GroupStats extends LookupOutcomeStats {
  name: string | null;
  totalEntries: number;
  activeEntries: number;
  expiredEntries: number;
  totalUsage: number;
}

/** The overview (GET /exercise-cache/stats) narrowed by a filter. */
export interface FilteredOverviewStats extends GroupStats {
  namespace: string | null;
  generatorVersion: string | null;
}

/** One exercise type narrowed by a filter (GET /exercise-cache/stats/types?namespace=...). */
export interface FilteredTypeStats extends LookupOutcomeStats {
  exerciseType: string;
  totalEntries: number;
  activeEntries: number;
  expiredEntries: number;
  totalUsage: number;
}

/** Lookup outcomes of one UTC day (GET /exercise-cache/stats/daily-outcomes). */
export interface DailyOutcomeStats extends LookupOutcomeStats {
  date: string;
}
