import request from 'supertest';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { sampleValue } from '../operations/prometheus-text';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';

/**
 * Counting never stops: cost_saved cannot overflow within the allowed inputs, a usage row the
 * database refuses is dropped alone (logged and counted) while every other row is written, the
 * buffer of unwritten lookups is bounded and visible in /metrics, and shutdown writes what is
 * buffered.
 */
describe('usage counting', () => {
  let db: TestDatabase;
  let t: TestApp;
  let cache: ExerciseCacheService;
  const server = () => t.app.getHttpServer();
  const today = () => new Date().toISOString().slice(0, 10);
  const stats = async (type: string) =>
    (await db.pool.query('SELECT coalesce(sum(hits), 0)::int AS hits, coalesce(sum(misses), 0)::int AS misses, coalesce(sum(cost_saved), 0)::text AS cost FROM exercise_cache_lookup_stats WHERE exercise_type = $1', [type])).rows[0];
  const metric = async (name: string) => sampleValue((await request(server()).get('/metrics').expect(200)).text, name);
  const lookUp = (type: string, topic = 'a') => request(server()).get(`/exercise-cache?type=${type}&difficulty=3&topics=${topic}`);
  /** A trigger that makes the database refuse lookup-statistics rows of one type with `sqlstate`. */
  async function refuseRowsOf(type: string, sqlstate: string): Promise<() => Promise<void>> {
    await db.pool.query(`CREATE FUNCTION refuse_${type}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.exercise_type = '${type}' THEN RAISE EXCEPTION 'refused row of ${type}' USING ERRCODE = '${sqlstate}'; END IF; RETURN NEW; END $$`);
    await db.pool.query(`CREATE TRIGGER refuse_${type} BEFORE INSERT OR UPDATE ON exercise_cache_lookup_stats FOR EACH ROW EXECUTE FUNCTION refuse_${type}()`);
    return async () => {
      await db.pool.query(`DROP TRIGGER refuse_${type} ON exercise_cache_lookup_stats`);
      await db.pool.query(`DROP FUNCTION refuse_${type}()`);
    };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '60000', USAGE_FLUSH_MAX_EVENTS: '1000000', USAGE_BUFFER_MAX_ROWS: '6', RATE_LIMIT_MAX: '0' });
    cache = t.app.get(ExerciseCacheService);
    for (const type of ['costly', 'poison', 'healthy', 'capped', 'late']) {
      await request(server())
        .post('/exercise-cache')
        .send({ context: { type, difficulty: 3, topics: ['a'] }, exercise: { type }, generationCost: 9999 })
        .expect(201);
    }
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('cost_saved does not overflow past a million hits of the most expensive exercise, and every statistic still answers', async () => {
    // As after about a million hits at the highest allowed generationCost today.
    await db.pool.query(
      `INSERT INTO exercise_cache_lookup_stats (day, exercise_type, difficulty, hits, near_hits, misses, cost_saved)
       VALUES ($1, 'costly', 3, 1000000, 0, 0, 9999990000)`,
      [today()],
    );
    for (let i = 0; i < 3; i++) await lookUp('costly').expect(200);
    await cache.flushUsage();
    expect(await stats('costly')).toEqual({ hits: 1000003, misses: 0, cost: '10000019997.000000' });
    for (const path of ['/exercise-cache/stats', '/exercise-cache/stats/types', '/exercise-cache/metrics/daily', '/dashboard/data']) {
      expect({ path, status: (await request(server()).get(path)).status }).toEqual({ path, status: 200 });
    }
    await request(server()).post('/exercise-cache/maintenance/refresh').expect(200);
    const daily = await request(server()).get('/exercise-cache/metrics/daily').expect(200);
    expect(daily.body).toEqual(expect.arrayContaining([expect.objectContaining({ exerciseType: 'costly', costSaved: 10000019997 })]));
  });

  it('drops only a row the database refuses, writes every other row, and counts the drop in /metrics', async () => {
    const restore = await refuseRowsOf('poison', '22003');
    const before = { healthy: await stats('healthy'), rejected: (await metric('exercise_cache_usage_rows_rejected_total')) ?? 0 };
    try {
      await lookUp('poison').expect(200);
      await lookUp('healthy').expect(200);
      await lookUp('healthy').expect(200);
      await lookUp('healthy', 'absent').expect(404);
      await cache.flushUsage(); // does not throw: the bad row is dropped, the rest written
    } finally {
      await restore();
    }
    expect(await stats('healthy')).toMatchObject({ hits: before.healthy.hits + 2, misses: before.healthy.misses + 1 });
    expect(await stats('poison')).toMatchObject({ hits: 0 });
    // The poisoned type's usage row is not refused: its use of the entry is kept.
    const { rows } = await db.pool.query("SELECT usage_count FROM exercise_cache WHERE exercise_type = 'poison'");
    expect(rows[0].usage_count).toBe(1);
    expect(await metric('exercise_cache_usage_rows_rejected_total')).toBe(before.rejected + 1);
    // Counting goes on, and nothing answers 500.
    await lookUp('healthy').expect(200);
    await request(server()).get('/exercise-cache/stats').expect(200);
    await request(server()).get('/dashboard/data').expect(200);
    await request(server()).post('/exercise-cache/maintenance/evict').expect(200);
    expect(await stats('healthy')).toMatchObject({ hits: before.healthy.hits + 3 });
  });

  it('bounds what it holds while the database cannot take the writes, and shows it in /metrics', async () => {
    await cache.flushUsage();
    const dropped = (await metric('exercise_cache_usage_events_dropped_total')) ?? 0;
    // Unavailable (as a read-only database is): batches are kept for the next flush.
    const restore = await refuseRowsOf('capped', '25006');
    try {
      await lookUp('capped').expect(200); // 2 rows: the entry's uses, today's capped outcomes
      await expect(cache.flushUsage()).rejects.toThrow(/refused row of capped/);
      await lookUp('capped').expect(200); // no new row
      await lookUp('capped', 'b1').expect(404); // no new row (same type, day, difficulty)
      await lookUp('healthy').expect(200); // 2 rows: 4 held
      await lookUp('late').expect(200); // 2 rows: 6 held, the limit
      await lookUp('late').expect(200); // no new row
      await lookUp('costly').expect(200); // would need 2 more: served, not counted
      await lookUp('costly').expect(200);
      expect(await metric('exercise_cache_usage_pending_events')).toBe(6);
      expect(await metric('exercise_cache_usage_events_dropped_total')).toBe(dropped + 2);
    } finally {
      await restore();
    }
    const costlyBefore = await stats('costly');
    await cache.flushUsage();
    expect(await metric('exercise_cache_usage_pending_events')).toBe(0);
    expect(await stats('capped')).toMatchObject({ hits: 2, misses: 1 });
    expect(await stats('late')).toMatchObject({ hits: 2 });
    expect(await stats('costly')).toEqual(costlyBefore);
  });

  it('writes what is buffered at shutdown, a refused row aside', async () => {
    const own = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '60000', USAGE_FLUSH_MAX_EVENTS: '1000000' });
    const before = await stats('late');
    const restore = await refuseRowsOf('poison', '22003');
    try {
      await request(own.app.getHttpServer()).get('/exercise-cache?type=poison&difficulty=3&topics=a').expect(200);
      for (let i = 0; i < 4; i++) await request(own.app.getHttpServer()).get('/exercise-cache?type=late&difficulty=3&topics=a').expect(200);
      await own.close();
    } finally {
      await restore();
    }
    expect(await stats('late')).toMatchObject({ hits: before.hits + 4 });
  });
});
