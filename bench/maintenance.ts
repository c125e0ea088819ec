import type { Pool } from 'pg';
import type { CacheStatisticsRepository } from '../src/cache/cache-statistics.repository';
import type { ExerciseCacheRepository } from '../src/cache/exercise-cache.repository';
import { withIndexesRebuilt } from './seed';

export interface MaintenanceResult {
  evict: { activeRows: number; keep: number; deleted: number; ms: number; seedMs: number };
  cleanup: { expiredRows: number; activeRows: number; deleted: number; ms: number; seedMs: number };
  refresh: { rows: number; lookupStatsRows: number; viewRows: number; firstMs: number; secondMs: number; seedMs: number };
  /** evict_lru_exercises with nothing to evict at the refresh size: the count the write path pays every EVICT_EVERY_WRITES writes. */
  evictNothingToDo: { activeRows: number; ms: number };
}

// The maintenance functions need states the cache's write path never produces (rows that expired
// days ago, last use and creation spread back over weeks), so these fixtures are bench SQL of their
// own, like the tests' backdating; what is measured runs through the cache's repository.
// One INSERT ... SELECT generate_series per seed: valid rows (CHECK constraints hold), unique
// 64-character keys, last_used_at scattered so the LRU order is not the physical order.
const SEED_ROWS = `
  INSERT INTO exercise_cache (cache_key, context_key, exercise_type, exercise_data, user_context_hash, difficulty, topics,
    usage_count, last_used_at, created_at, expires_at, generation_cost, generation_time_ms)
  SELECT k, k, 'bulk_' || (i % 5), jsonb_build_object('question', 'question ' || i, 'answer', 'answer'),
         md5('u' || i) || md5('v' || i), 1 + (i / 5) % 5, ARRAY['topic-' || (i % 1000), 'area-' || (i % 37)], i % 50,
         %LAST_USED%, %CREATED%, %EXPIRES%, 0.003, 1000 + i % 500
  FROM (SELECT i, md5('k' || i || $2::text) || md5('j' || i || $2::text) AS k FROM generate_series(1, $1::int) AS i) AS s`;

const seedSql = (lastUsed: string, created: string, expires: string) =>
  SEED_ROWS.replace('%LAST_USED%', lastUsed).replace('%CREATED%', created).replace('%EXPIRES%', expires);

const ACTIVE = seedSql(
  `now() - ((i::bigint * 7919) % 86400) * interval '1 second'`,
  `now() - interval '2 days'`,
  `now() + interval '7 days'`,
);
const EXPIRED = seedSql(`now() - interval '2 days'`, `now() - interval '3 days'`, `now() - interval '1 day' - (i % 3600) * interval '1 second'`);
// created_at spread over the last 30 days; each entry lives 31 days, so all are active.
const SPREAD = seedSql(
  `now() - ((i::bigint * 7919) % 86400) * interval '1 second'`,
  `now() - ((i::bigint * 7919) % 2592000) * interval '1 second'`,
  `now() - ((i::bigint * 7919) % 2592000) * interval '1 second' + interval '31 days'`,
);

/**
 * The guide's maintenance functions at volume, each on a freshly seeded, vacuumed and analysed
 * table (as autovacuum would leave it): evict_lru_exercises(keep) on `evictRows` active rows,
 * cleanup_expired_exercises() on `cleanupRows` expired rows beside 10,000 active ones, and
 * refresh_exercise_cache_metrics() on `refreshRows` rows plus 30 days of lookup statistics (that
 * seed rebuilds the indexes after inserting; the refresh reads the table, not its indexes). The
 * eviction and cleanup seeds insert with every index in place, as a live table grows.
 */
export async function measureMaintenance(
  pool: Pool,
  repository: ExerciseCacheRepository,
  statistics: CacheStatisticsRepository,
  sizes: { evictRows: number; evictKeep: number; cleanupRows: number; refreshRows: number },
  log: (line: string) => void,
): Promise<MaintenanceResult> {
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const started = performance.now();
    const value = await fn();
    return [value, performance.now() - started];
  };
  const reset = () => pool.query('TRUNCATE exercise_cache, exercise_cache_lookup_stats');
  const settle = () => pool.query('VACUUM ANALYZE');

  log(`maintenance: evict_lru_exercises ${sizes.evictRows} -> ${sizes.evictKeep}`);
  await reset();
  const [, evictSeedMs] = await timed(() => pool.query(ACTIVE, [sizes.evictRows, 'a']));
  await settle();
  const [evicted, evictMs] = await timed(() => repository.evictLeastRecentlyUsed(sizes.evictKeep));

  log(`maintenance: cleanup_expired_exercises on ${sizes.cleanupRows} expired rows`);
  await reset();
  const [, cleanupSeedMs] = await timed(async () => {
    await pool.query(EXPIRED, [sizes.cleanupRows, 'e']);
    await pool.query(ACTIVE, [10_000, 'a']);
  });
  await settle();
  const [cleaned, cleanupMs] = await timed(() => repository.cleanupExpired());

  log(`maintenance: refresh_exercise_cache_metrics at ${sizes.refreshRows} rows`);
  await reset();
  let lookupStatsRows = 0;
  const [, refreshSeedMs] = await timed(async () => {
    await withIndexesRebuilt(pool, 'exercise_cache', () => pool.query(SPREAD, [sizes.refreshRows, 'r']));
    const stats = await pool.query(`
      INSERT INTO exercise_cache_lookup_stats (day, exercise_type, difficulty, hits, near_hits, misses, cost_saved)
      SELECT (now() AT TIME ZONE 'UTC')::date - d, 'bulk_' || t, diff, 1000 + d * t, d, 100 + diff, (1000 + d * t) * 0.003
      FROM generate_series(0, 29) AS d, generate_series(0, 4) AS t, generate_series(1, 5) AS diff`);
    lookupStatsRows = stats.rowCount ?? 0;
  });
  await settle();
  const [, firstMs] = await timed(() => repository.refreshMetrics());
  const [, secondMs] = await timed(() => repository.refreshMetrics());
  const viewRows = await statistics.countDailyMetricsRows();
  const [, noopMs] = await timed(() => repository.evictLeastRecentlyUsed(sizes.refreshRows + 1));
  await reset();

  return {
    evict: { activeRows: sizes.evictRows, keep: sizes.evictKeep, deleted: evicted, ms: evictMs, seedMs: evictSeedMs },
    cleanup: { expiredRows: sizes.cleanupRows, activeRows: 10_000, deleted: cleaned, ms: cleanupMs, seedMs: cleanupSeedMs },
    refresh: { rows: sizes.refreshRows, lookupStatsRows, viewRows, firstMs, secondMs, seedMs: refreshSeedMs },
    evictNothingToDo: { activeRows: sizes.refreshRows, ms: noopMs },
  };
}
