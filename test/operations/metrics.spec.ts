import request from 'supertest';
import { insertExercises, expired } from '../support/seed';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { sampleValue } from './prometheus-text';

describe('GET /metrics', () => {
  let db: TestDatabase;
  let t: TestApp;
  const scrape = async () => {
    const res = await request(t.app.getHttpServer()).get('/metrics').expect(200);
    return res.text;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '60000' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('reports entries by state and the hit ratio from the database', async () => {
    await db.pool.query('TRUNCATE exercise_cache, exercise_cache_lookup_stats');
    await insertExercises(db.pool, [{}, {}, {}, expired(), expired()]);
    await db.pool.query(
      `INSERT INTO exercise_cache_lookup_stats (day, exercise_type, difficulty, hits, near_hits, misses) VALUES (current_date, 'x', 1, 3, 0, 1)`,
    );
    // First scrape of this app, so the gauges read the database now (later reads are reused for a few seconds).
    const text = await scrape();
    expect(sampleValue(text, 'exercise_cache_entries', { state: 'active' })).toBe(3);
    expect(sampleValue(text, 'exercise_cache_entries', { state: 'expired' })).toBe(2);
    expect(sampleValue(text, 'exercise_cache_hit_ratio')).toBe(0.75);
  });

  it('answers in the Prometheus text format with default process metrics', async () => {
    const res = await request(t.app.getHttpServer()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(res.text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(res.text).toContain('# TYPE exercise_cache_http_request_duration_seconds histogram');
    expect(sampleValue(res.text, 'exercise_cache_maintenance_failures_total', { job: 'evict' })).toBe(0);
  });

  it('counts lookups by type and outcome, writes, and times requests by route pattern', async () => {
    const server = t.app.getHttpServer();
    const before = await scrape();
    const lookups = (text: string, type: string, outcome: string) =>
      sampleValue(text, 'exercise_cache_lookups_total', { exercise_type: type, outcome }) ?? 0;
    const writes = (text: string, type: string) => sampleValue(text, 'exercise_cache_writes_total', { exercise_type: type }) ?? 0;
    const byKeyCount = (text: string, status: string) =>
      sampleValue(text, 'exercise_cache_http_request_duration_seconds_count', { method: 'GET', route: '/exercise-cache/:key', status }) ?? 0;

    await request(server).get('/exercise-cache?type=metric_fill&difficulty=2&topics=a').expect(404);
    const { body } = await request(server)
      .post('/exercise-cache')
      .send({ context: { type: 'metric_fill', difficulty: 2, topics: ['a'] }, exercise: { q: 1 } })
      .expect(201);
    await request(server).get('/exercise-cache?type=metric_fill&difficulty=2&topics=a').expect(200);
    await request(server).get(`/exercise-cache/${body.key}`).expect(200);
    await request(server).get(`/exercise-cache/${'0'.repeat(64)}`).expect(404);
    await request(server).get('/exercise-cache?type=metric_match&difficulty=1').expect(404);

    const after = await scrape();
    expect(lookups(after, 'metric_fill', 'miss') - lookups(before, 'metric_fill', 'miss')).toBe(1);
    expect(lookups(after, 'metric_fill', 'hit') - lookups(before, 'metric_fill', 'hit')).toBe(2);
    expect(lookups(after, 'metric_match', 'miss') - lookups(before, 'metric_match', 'miss')).toBe(1);
    expect(writes(after, 'metric_fill') - writes(before, 'metric_fill')).toBe(1);
    // The route pattern, never the raw URL with its key.
    expect(byKeyCount(after, '200') - byKeyCount(before, '200')).toBe(1);
    expect(byKeyCount(after, '404') - byKeyCount(before, '404')).toBe(1);
    expect(after).not.toContain(body.key);
    expect(sampleValue(after, 'exercise_cache_http_request_duration_seconds_count', { method: 'POST', route: '/exercise-cache', status: '201' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'exercise_cache_http_request_duration_seconds_bucket', { method: 'POST', route: '/exercise-cache', status: '201', le: '+Inf' })).toBeGreaterThanOrEqual(1);
  });

  it('labels requests that match no route as unmatched', async () => {
    const server = t.app.getHttpServer();
    await request(server).get('/no/such/route/12345').expect(404);
    const text = await scrape();
    expect(sampleValue(text, 'exercise_cache_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('/no/such/route');
  });

});
