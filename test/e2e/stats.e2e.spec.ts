import type { QueryResult } from 'pg';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { E2e, startE2e, storeBody } from './e2e-kit';

const INT8 = 20;
const NUMERIC = 1700;
const TIMESTAMPTZ = 1184;

/** A row of a SQL view as the API should render it: camelCase names, numbers, ISO timestamps. */
function asJson(result: QueryResult): Record<string, unknown>[] {
  const types = new Map(result.fields.map((f) => [f.name, f.dataTypeID]));
  return result.rows.map((row: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row)) {
      const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const type = types.get(name);
      if (value !== null && (type === INT8 || type === NUMERIC)) out[camel] = Number(value);
      else if (value !== null && type === TIMESTAMPTZ) out[camel] = (value as Date).toISOString();
      else out[camel] = value;
    }
    return out;
  });
}

describe('statistics endpoints', () => {
  let e: E2e;

  beforeAll(async () => {
    e = await startE2e();
    const post = (body: object) => e.http().post('/exercise-cache').send(body).expect(201);
    await post(storeBody('stats_fill', ['a'], { generationCost: 0.01, generationTimeMs: 1000 }));
    await post(storeBody('stats_fill', ['b'], { generationCost: 0.02, generationTimeMs: 3000 }));
    await post(storeBody('stats_fill', ['c', 'd'], { generationCost: 0.005 }, 2));
    await post(storeBody('stats_match', ['a'], { variants: 2 }));
    await post(storeBody('stats_match', ['a'], { variants: 2 }));
    const { body: old } = await post(storeBody('stats_match', ['old']));
    await e.db.pool.query(`UPDATE exercise_cache SET created_at = now() - interval '3 days', expires_at = now() - interval '1 day' WHERE cache_key = $1`, [old.key]);
    for (let i = 0; i < 3; i++) await e.http().get('/exercise-cache?type=stats_fill&difficulty=3&topics=a').expect(200);
    await e.http().get('/exercise-cache?type=stats_fill&difficulty=3&topics=b').expect(200);
    await e.http().get('/exercise-cache?type=stats_fill&difficulty=3&topics=zzz').expect(404);
    await e.http().get('/exercise-cache?type=stats_match&difficulty=3&topics=a&variants=2').expect(200);
    await e.http().get('/exercise-cache?type=stats_match&difficulty=3&topics=nothing').expect(404);
    // A near hit, which only getOrGenerate records.
    await e.t.app.get(ExerciseCacheService).getOrGenerate({ type: 'stats_fill', difficulty: 2, topics: ['c', 'x'] }, jest.fn(), { acceptNearMiss: { minOverlap: 1 } });
  });
  afterAll(async () => {
    await e?.close();
  });

  it('GET /exercise-cache/stats returns exercise_cache_overview in camelCase, with reports and quarantined entries', async () => {
    const res = await e.http().get('/exercise-cache/stats').expect(200);
    const [expected] = asJson(await e.db.pool.query('SELECT * FROM exercise_cache_overview'));
    expect(res.body).toEqual({ ...expected, reports: 0, quarantinedEntries: 0 });
    expect(res.body).toMatchObject({ totalEntries: 6, activeEntries: 5, expiredEntries: 1, totalHits: 5, nearHits: 1, totalMisses: 2, totalLookups: 8 });
    expect(res.body.cacheHitRate).toBe(62.5);
    expect(res.body.nearHitRate).toBe(12.5);
    expect(typeof res.body.totalCostSaved).toBe('number');
  });

  it('GET /exercise-cache/stats/types returns exercise_cache_stats in camelCase, one row per type, with reports and quarantined entries', async () => {
    const res = await e.http().get('/exercise-cache/stats/types').expect(200);
    const expected = asJson(await e.db.pool.query('SELECT * FROM exercise_cache_stats ORDER BY total_lookups DESC, exercise_type'));
    expect(res.body).toEqual(expected.map((row) => ({ ...row, reports: 0, quarantinedEntries: 0 })));
    expect(res.body.map((r: { exerciseType: string }) => r.exerciseType)).toEqual(['stats_fill', 'stats_match']);
    expect(res.body[0]).toMatchObject({ hits: 4, nearHits: 1, misses: 1, totalLookups: 6, cacheHitRate: 66.67, avgGenerationTimeMs: 2000 });
    expect(res.body[1]).toMatchObject({ totalEntries: 3, contexts: 2, avgVariantsPerContext: 1.5, expiredEntries: 1 });
  });

  it('GET /exercise-cache/popular returns get_popular_exercises(limit) in camelCase', async () => {
    const res = await e.http().get('/exercise-cache/popular?limit=2').expect(200);
    expect(res.body).toEqual(asJson(await e.db.pool.query('SELECT * FROM get_popular_exercises(2)')));
    expect(res.body[0]).toMatchObject({ exerciseType: 'stats_fill', topics: ['a'], usageCount: 3, variant: 1 });
    const all = await e.http().get('/exercise-cache/popular').expect(200);
    expect(all.body).toEqual(asJson(await e.db.pool.query('SELECT * FROM get_popular_exercises(10)')));
    expect(all.body).toHaveLength(5); // live entries only
  });

  it('GET /exercise-cache/lru returns get_lru_exercises(limit) in camelCase', async () => {
    const res = await e.http().get('/exercise-cache/lru?limit=3').expect(200);
    expect(res.body).toEqual(asJson(await e.db.pool.query('SELECT * FROM get_lru_exercises(3)')));
    expect(res.body).toHaveLength(3);
    expect(res.body[0].usageCount).toBe(0);
  });

  it('GET /exercise-cache/metrics/daily returns exercise_cache_daily_metrics as of the last refresh', async () => {
    await e.t.app.get(ExerciseCacheService).refreshMetrics();
    const res = await e.http().get('/exercise-cache/metrics/daily?days=7').expect(200);
    const result = await e.db.pool.query(
      `SELECT to_char(date, 'YYYY-MM-DD') AS date, exercise_type, difficulty, entries_created, total_accesses, total_cost, cost_saved,
              avg_generation_time_ms, hits, near_hits, misses, stale, coalesced, hit_rate
       FROM exercise_cache_daily_metrics
       WHERE date > (now() AT TIME ZONE 'UTC')::date - 7
       ORDER BY date DESC, cost_saved DESC, exercise_type, difficulty`,
    );
    expect(result.fields.map((f) => f.name).sort()).toEqual(
      (await e.db.pool.query('SELECT * FROM exercise_cache_daily_metrics LIMIT 0')).fields.map((f) => f.name).sort(),
    );
    expect(res.body).toEqual(asJson(result));
    const today = new Date().toISOString().slice(0, 10);
    expect(res.body.find((r: { date: string; exerciseType: string; difficulty: number }) => r.date === today && r.exerciseType === 'stats_fill' && r.difficulty === 3)).toMatchObject({
      entriesCreated: 2,
      totalAccesses: 5,
      hits: 4,
      misses: 1,
      hitRate: 80,
      costSaved: 0.05,
    });
    // The entry created three days ago shows on its own day, within days=7 but not days=1.
    expect(res.body.some((r: { date: string }) => r.date < today)).toBe(true);
    const oneDay = await e.http().get('/exercise-cache/metrics/daily?days=1').expect(200);
    expect(oneDay.body.every((r: { date: string }) => r.date === today)).toBe(true);
  });

  it('uses camelCase names only', async () => {
    for (const path of ['/exercise-cache/stats', '/exercise-cache/stats/types', '/exercise-cache/popular', '/exercise-cache/lru', '/exercise-cache/metrics/daily']) {
      const { body } = await e.http().get(path).expect(200);
      for (const row of Array.isArray(body) ? body : [body]) for (const name of Object.keys(row)) expect(name).not.toContain('_');
    }
  });

  it.each([
    ['/exercise-cache/popular?limit=0', 'limit must be an integer from 1 to 1000'],
    ['/exercise-cache/popular?limit=1001', 'limit must be an integer from 1 to 1000'],
    ['/exercise-cache/lru?limit=ten', 'limit must be an integer from 1 to 1000'],
    ['/exercise-cache/metrics/daily?days=0', 'days must be an integer from 1 to 3660'],
    ['/exercise-cache/metrics/daily?days=3661', 'days must be an integer from 1 to 3660'],
    ['/exercise-cache/popular?limit=5&order=asc', 'order: property order should not exist'],
  ])('GET %s answers 400 naming the parameter', async (path, message) => {
    const res = await e.http().get(path).expect(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: [message] });
  });
});
