import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { applyMigrations } from '../../src/database/migrations';
import { pollUntil } from '../support/poll';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';

const GUIDE_007 = readFileSync(path.join(__dirname, 'fixtures', 'guide-007-exercise-cache.sql'), 'utf8');
const SCHEMA = 'app_cache';

/**
 * The service with DATABASE_SCHEMA on a database whose public schema holds the guide's own
 * exercise_cache, functions and views (an application still on migration 007). The pool's
 * connections keep the default search_path, so any unqualified name in the service's SQL would
 * reach public's objects: every answer below must come from app_cache, and public must not change.
 */
describe('the service in a schema of its own (DATABASE_SCHEMA)', () => {
  let db: TestDatabase;
  let t: TestApp;
  const http = () => request(t.url!);
  const publicRows = async () => (await db.pool.query('SELECT cache_key, usage_count FROM public.exercise_cache ORDER BY 1')).rows;

  beforeAll(async () => {
    db = await createEmptyDatabase();
    await db.pool.query(GUIDE_007);
    await db.pool.query(
      `INSERT INTO public.exercise_cache (cache_key, exercise_type, exercise_data, user_context_hash, difficulty, topics, usage_count)
       VALUES ('app-key', 'contextual_fill', '{"prompt":"the application''s own"}', 'h', 3, ARRAY['colors'], 9)`,
    );
    await applyMigrations(db.url, { schema: SCHEMA });
    t = await startTestApp(db.url, { DATABASE_SCHEMA: SCHEMA, USAGE_FLUSH_INTERVAL_MS: '20' }, { listen: true });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('stores, finds, counts, maintains and deletes in its schema and leaves public alone', async () => {
    const before = await publicRows();
    const context = { type: 'contextual_fill', difficulty: 3, topics: ['colors'] };
    const stored = await http().post('/exercise-cache').send({ context, exercise: { prompt: 'ours' } }).expect(201);
    const hit = await http().get('/exercise-cache?type=contextual_fill&difficulty=3&topics=colors').expect(200);
    expect(hit.body.exercise).toEqual({ prompt: 'ours' });
    await http().get('/exercise-cache?type=contextual_fill&difficulty=3&topics=other').expect(404);
    await pollUntil(async () => (await db.pool.query(`SELECT usage_count FROM ${SCHEMA}.exercise_cache`)).rows[0]?.usage_count, (n) => n === 1);

    const stats = await http().get('/exercise-cache/stats').expect(200);
    expect(stats.body).toMatchObject({ totalEntries: 1, totalHits: 1, totalMisses: 1 });
    expect((await http().get('/exercise-cache/stats/types').expect(200)).body).toHaveLength(1);
    expect((await http().get('/exercise-cache/popular').expect(200)).body.map((r: { key?: string; cacheKey?: string }) => r.key ?? r.cacheKey)).toEqual([stored.body.key]);
    await http().post('/exercise-cache/maintenance/cleanup').expect(200);
    await http().post('/exercise-cache/maintenance/evict').send({ maxEntries: 10 }).expect(200);
    await http().post('/exercise-cache/maintenance/refresh').expect(200);
    expect((await http().get('/exercise-cache/maintenance/runs').expect(200)).body.length).toBeGreaterThanOrEqual(3);
    expect((await http().get('/health').expect(200)).body).toMatchObject({ status: 'ok' });
    expect((await http().get('/metrics').expect(200)).text).toMatch(/exercise_cache_entries\{state="active"\} 1/);

    await http().delete(`/exercise-cache/${stored.body.key}`).expect(204);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.exercise_cache`)).rows[0].n).toBe(0);
    expect(await publicRows()).toEqual(before);
  });
});
