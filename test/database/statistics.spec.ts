import { clearCache, insertExercises, insertLookupStats, secondsFromNow } from '../support/seed';
import { TestDatabase, createTestDatabase } from '../support/test-database';

/**
 * A small hand-built data set; every expected number below is worked out by hand from it.
 *
 *   entry  type  context variant diff usage cost   time  created (UTC)      state
 *   A      fill  c1      1       3    5     0.004  100   2026-03-01 10:00   active
 *   B      fill  c1      2       3    3     0.002  200   2026-03-01 23:30   active
 *   C      fill  c2      1       3    1     0.003  -     2026-03-02 00:30   expired
 *   D      quiz  c3      1       2    0     0.010  400   2026-03-01 05:00   active
 *
 *   lookups  day         type    diff  hits near misses cost_saved
 *            2026-03-01  fill    3     6    2    2      0.020
 *            2026-03-02  fill    3     2    0    8      0.006
 *            2026-03-01  quiz    2     0    0    4      0
 *            2026-03-05  orphan  1     1    0    0      0.005   (a type with no entries left)
 */
async function seedHandBuiltDataSet(db: TestDatabase): Promise<void> {
  const active = secondsFromNow(24 * 3600);
  await insertExercises(db.pool, [
    { contextKey: 'c1', variant: 1, exerciseType: 'fill', difficulty: 3, usageCount: 5, generationCost: '0.004', generationTimeMs: 100, createdAt: '2026-03-01T10:00:00Z', expiresAt: active },
    { contextKey: 'c1', variant: 2, exerciseType: 'fill', difficulty: 3, usageCount: 3, generationCost: '0.002', generationTimeMs: 200, createdAt: '2026-03-01T23:30:00Z', expiresAt: active },
    { contextKey: 'c2', variant: 1, exerciseType: 'fill', difficulty: 3, usageCount: 1, generationCost: '0.003', generationTimeMs: null, createdAt: '2026-03-02T00:30:00Z', expiresAt: '2026-03-03T00:30:00Z', lastUsedAt: '2026-03-02T12:00:00Z' },
    { contextKey: 'c3', variant: 1, exerciseType: 'quiz', difficulty: 2, usageCount: 0, generationCost: '0.010', generationTimeMs: 400, createdAt: '2026-03-01T05:00:00Z', expiresAt: active },
  ]);
  await insertLookupStats(db.pool, [
    { day: '2026-03-01', exerciseType: 'fill', difficulty: 3, hits: 6, nearHits: 2, misses: 2, costSaved: '0.020' },
    { day: '2026-03-02', exerciseType: 'fill', difficulty: 3, hits: 2, nearHits: 0, misses: 8, costSaved: '0.006' },
    { day: '2026-03-01', exerciseType: 'quiz', difficulty: 2, hits: 0, nearHits: 0, misses: 4, costSaved: '0' },
    { day: '2026-03-05', exerciseType: 'orphan', difficulty: 1, hits: 1, nearHits: 0, misses: 0, costSaved: '0.005' },
  ]);
}

const STATS_BY_TYPE = {
  fill: {
    total_entries: '3', active_entries: '2', expired_entries: '1', contexts: '2', avg_variants_per_context: '1.50',
    total_usage: '9', avg_usage: '3.00', hits: '8', near_hits: '2', misses: '10', total_lookups: '20',
    cache_hit_rate: '40.00', near_hit_rate: '10.00', estimated_cost_saved: '0.026000', total_generation_cost: '0.009000',
    avg_generation_time_ms: '150.00',
  },
  orphan: {
    total_entries: '0', active_entries: '0', expired_entries: '0', contexts: '0', avg_variants_per_context: null,
    total_usage: '0', avg_usage: null, hits: '1', near_hits: '0', misses: '0', total_lookups: '1',
    cache_hit_rate: '100.00', near_hit_rate: '0.00', estimated_cost_saved: '0.005000', avg_generation_time_ms: null,
  },
  quiz: {
    total_entries: '1', active_entries: '1', expired_entries: '0', contexts: '1', avg_variants_per_context: '1.00',
    total_usage: '0', avg_usage: '0.00', hits: '0', near_hits: '0', misses: '4', total_lookups: '4',
    cache_hit_rate: '0.00', near_hit_rate: '0.00', estimated_cost_saved: '0.000000', total_generation_cost: '0.010000',
    avg_generation_time_ms: '400.00',
  },
};

const OVERALL = {
  total_entries: '4', active_entries: '3', expired_entries: '1', total_usage: '9', total_hits: '9', near_hits: '2',
  total_misses: '14', total_lookups: '25', cache_hit_rate: '36.00', near_hit_rate: '8.00', total_cost_saved: '0.031000',
  total_generation_cost: '0.019000', avg_generation_time_ms: '233.33',
};

/** Rows of exercise_cache_daily_metrics: days are UTC days (B, created 23:30 UTC, counts on 03-01). */
const DAILY_METRICS = [
  { date: '2026-03-01', exercise_type: 'fill', difficulty: 3, entries_created: '2', total_accesses: '10', total_cost: '0.006000', cost_saved: '0.020000', avg_generation_time_ms: '150.00', hits: '6', near_hits: '2', misses: '2', hit_rate: '60.00' },
  { date: '2026-03-01', exercise_type: 'quiz', difficulty: 2, entries_created: '1', total_accesses: '4', total_cost: '0.010000', cost_saved: '0.000000', avg_generation_time_ms: '400.00', hits: '0', near_hits: '0', misses: '4', hit_rate: '0.00' },
  { date: '2026-03-02', exercise_type: 'fill', difficulty: 3, entries_created: '1', total_accesses: '10', total_cost: '0.003000', cost_saved: '0.006000', avg_generation_time_ms: null, hits: '2', near_hits: '0', misses: '8', hit_rate: '20.00' },
  { date: '2026-03-05', exercise_type: 'orphan', difficulty: 1, entries_created: '0', total_accesses: '1', total_cost: '0.000000', cost_saved: '0.005000', avg_generation_time_ms: null, hits: '1', near_hits: '0', misses: '0', hit_rate: '100.00' },
];

describe('cache statistics', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    // drop() ends the pool, then drops the database WITH (FORCE): a pooled connection still closing at
    // that moment reports "terminating connection due to administrator command", which is no failure here
    db.pool.on('error', () => undefined);
  });
  afterAll(() => db.drop());
  beforeEach(async () => {
    await clearCache(db.pool);
    await seedHandBuiltDataSet(db);
  });

  const dailyMetrics = () =>
    db.pool
      .query("SELECT to_char(date, 'YYYY-MM-DD') AS date, exercise_type, difficulty, entries_created, total_accesses, total_cost, cost_saved, avg_generation_time_ms, hits, near_hits, misses, hit_rate FROM exercise_cache_daily_metrics ORDER BY date, exercise_type, difficulty")
      .then((r) => r.rows);

  describe('get_exercise_cache_stats() and the exercise_cache_stats view', () => {
    it.each(['SELECT * FROM get_exercise_cache_stats()', 'SELECT * FROM exercise_cache_stats'])(
      'computes per-type counts, hit rates and cost saved from the lookups (%s)',
      async (sql) => {
        const { rows } = await db.pool.query(`${sql} ORDER BY exercise_type`);
        expect(rows.map((r) => r.exercise_type)).toEqual(['fill', 'orphan', 'quiz']);
        for (const row of rows) {
          expect(row).toMatchObject(STATS_BY_TYPE[row.exercise_type as keyof typeof STATS_BY_TYPE]);
        }
      },
    );
  });

  describe('get_overall_cache_stats() and the exercise_cache_overview view', () => {
    it.each(['SELECT * FROM get_overall_cache_stats()', 'SELECT * FROM exercise_cache_overview'])(
      'sums every type and every day (%s)',
      async (sql) => {
        const { rows } = await db.pool.query(sql);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject(OVERALL);
        expect(rows[0].oldest_entry.toISOString()).toBe('2026-03-01T05:00:00.000Z');
        expect(rows[0].newest_entry.toISOString()).toBe('2026-03-02T00:30:00.000Z');
      },
    );

    it('reports zeros, not NULL or a division error, on an empty cache', async () => {
      await clearCache(db.pool);
      const { rows } = await db.pool.query('SELECT * FROM exercise_cache_overview');
      const { total_entries, active_entries, total_lookups, cache_hit_rate, near_hit_rate, total_cost_saved } = rows[0];
      expect([total_entries, active_entries, total_lookups, cache_hit_rate, near_hit_rate, total_cost_saved].map(Number)).toEqual([0, 0, 0, 0, 0, 0]);
    });

    it('counts an entry as expired once expires_at has passed, in step with expired_exercises', async () => {
      const { rows } = await db.pool.query('SELECT exercise_type, difficulty FROM expired_exercises');
      expect(rows).toEqual([{ exercise_type: 'fill', difficulty: 3 }]);
    });
  });

  describe('refresh_exercise_cache_metrics()', () => {
    it('fills exercise_cache_daily_metrics with one row per UTC day, type and difficulty', async () => {
      const client = await db.pool.connect();
      try {
        await client.query("SET TIME ZONE 'Asia/Tokyo'"); // the session's time zone must not move rows to other days
        await client.query('SELECT refresh_exercise_cache_metrics()');
      } finally {
        await client.query('RESET TIME ZONE');
        client.release();
      }
      expect(await dailyMetrics()).toEqual(DAILY_METRICS);
    });

    it('refreshes twice in a row and picks up new entries and lookups each time', async () => {
      await db.pool.query('SELECT refresh_exercise_cache_metrics()');
      expect(await dailyMetrics()).toHaveLength(4);

      await insertExercises(db.pool, [{ exerciseType: 'quiz', difficulty: 2, generationCost: '0.005', generationTimeMs: 600, createdAt: '2026-03-01T06:00:00Z', expiresAt: secondsFromNow(3600) }]);
      await db.pool.query("UPDATE exercise_cache_lookup_stats SET hits = 1, misses = 3, cost_saved = 0.010 WHERE exercise_type = 'quiz'");
      await db.pool.query('SELECT refresh_exercise_cache_metrics()');

      const quiz = (await dailyMetrics()).find((r) => r.exercise_type === 'quiz');
      expect(quiz).toMatchObject({ entries_created: '2', total_cost: '0.015000', cost_saved: '0.010000', avg_generation_time_ms: '500.00', hits: '1', misses: '3', hit_rate: '25.00' });
    });

    it('drops the rows of days that no longer have entries or lookups', async () => {
      await db.pool.query('SELECT refresh_exercise_cache_metrics()');
      await db.pool.query("DELETE FROM exercise_cache_lookup_stats WHERE exercise_type = 'orphan'");
      await db.pool.query('SELECT refresh_exercise_cache_metrics()');
      expect((await dailyMetrics()).map((r) => r.exercise_type)).toEqual(['fill', 'quiz', 'fill']);
    });
  });
});
