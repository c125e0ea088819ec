import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { outcomesOf } from '../cache/cache-test-kit';
import { E2e, startE2e, storeBody } from './e2e-kit';

/** Per-request Cache-Control (RFC 9111) on GET /exercise-cache, and the validators of a hit. */
describe('Cache-Control and validators (REST)', () => {
  let e: E2e;

  beforeAll(async () => {
    e = await startE2e();
  });
  afterAll(async () => {
    await e?.close();
  });

  const lookup = (type: string) => e.http().get(`/exercise-cache?type=${type}&difficulty=3&topics=a`);
  /** Moves an entry's created_at back, as if it had been stored `seconds` ago. */
  const ageBy = (key: string, seconds: number) =>
    e.db.pool.query(`UPDATE exercise_cache SET created_at = created_at - make_interval(secs => $2) WHERE cache_key = $1`, [key, seconds]);

  it('a hit carries ETag, Age and Cache-Control: private, max-age=<seconds left>', async () => {
    await e.http().post('/exercise-cache').send(storeBody('cc_headers', ['a'], { ttlSeconds: 3600 })).expect(201);
    const hit = await lookup('cc_headers').expect(200);
    expect(hit.headers.etag).toMatch(/^"[0-9a-f]{64}\.[0-9a-z]+"$/);
    expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(0);
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(hit.headers['cache-control'])![1]);
    expect(maxAge).toBeGreaterThan(3500);
    expect(maxAge).toBeLessThanOrEqual(3600);
    const byKey = await e.http().get(`/exercise-cache/${hit.body.key}`).expect(200);
    expect(byKey.headers.etag).toBe(hit.headers.etag);
  });

  it('If-None-Match with the current ETag gets 304 without a body; after a new store it gets 200', async () => {
    const stored = await e.http().post('/exercise-cache').send(storeBody('cc_304', ['a'])).expect(201);
    const { headers } = await lookup('cc_304').expect(200);
    const notModified = await lookup('cc_304').set('If-None-Match', headers.etag).expect(304);
    expect(notModified.text).toBe('');
    await e.http().get(`/exercise-cache/${stored.body.key}`).set('If-None-Match', `W/${headers.etag}`).expect(304);
    await lookup('cc_304').set('If-None-Match', '"other"').expect(200);
    await ageBy(stored.body.key, 5); // a new version of the entry has another validator
    await e.t.app.get(ExerciseCacheService).invalidate(stored.body.key);
    await e.http().post('/exercise-cache').send(storeBody('cc_304', ['a'], { exercise: { q: 'new' } })).expect(201);
    expect((await lookup('cc_304').set('If-None-Match', headers.etag).expect(200)).headers.etag).not.toBe(headers.etag);
  });

  it('no-cache skips the stored entry: a counted miss', async () => {
    await e.http().post('/exercise-cache').send(storeBody('cc_no_cache', ['a'])).expect(201);
    const res = await lookup('cc_no_cache').set('Cache-Control', 'no-cache').expect(404);
    expect(res.headers['x-cache']).toBe('MISS');
    expect(res.body.key).toBe(cacheKeyFor({ type: 'cc_no_cache', difficulty: 3, topics: ['a'] }));
    await lookup('cc_no_cache').expect(200);
    await e.t.app.get(ExerciseCacheService).flushUsage();
    expect(await outcomesOf(e.db.pool, 'cc_no_cache')).toMatchObject({ hits: 1, misses: 1 });
  });

  it('max-age=N answers only from an entry at most N seconds old', async () => {
    const stored = await e.http().post('/exercise-cache').send(storeBody('cc_max_age', ['a'])).expect(201);
    await ageBy(stored.body.key, 120);
    await lookup('cc_max_age').set('Cache-Control', 'max-age=60').expect(404);
    const fresh = await lookup('cc_max_age').set('Cache-Control', 'max-age=600').expect(200);
    expect(Number(fresh.headers.age)).toBeGreaterThanOrEqual(120);
    await lookup('cc_max_age').set('Cache-Control', 'max-age=x').expect(400);
  });

  it('only-if-cached answers 504 on a miss (RFC 9111) and the entry on a hit', async () => {
    const miss = await lookup('cc_only_if_cached').set('Cache-Control', 'only-if-cached').expect(504);
    expect(miss.body).toEqual({
      statusCode: 504,
      error: 'Gateway Timeout',
      message: 'only-if-cached: no cached exercise for this context',
      key: cacheKeyFor({ type: 'cc_only_if_cached', difficulty: 3, topics: ['a'] }),
    });
    await e.http().post('/exercise-cache').send(storeBody('cc_only_if_cached', ['a'])).expect(201);
    await lookup('cc_only_if_cached').set('Cache-Control', 'only-if-cached').expect(200);
    await lookup('cc_only_if_cached').set('Cache-Control', 'no-cache, only-if-cached').expect(504);
  });

  it('POST with Cache-Control: no-store validates and answers without storing', async () => {
    const res = await e.http().post('/exercise-cache').set('Cache-Control', 'no-store').send(storeBody('cc_no_store', ['a'], { ttlSeconds: 60 })).expect(200);
    expect(res.body.key).toBe(cacheKeyFor({ type: 'cc_no_store', difficulty: 3, topics: ['a'] }));
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await e.db.pool.query(`SELECT 1 FROM exercise_cache WHERE exercise_type = 'cc_no_store'`)).rows).toEqual([]);
    await lookup('cc_no_store').expect(404);
    const bad = await e.http().post('/exercise-cache').set('Cache-Control', 'no-store').send(storeBody('cc_no_store', ['a'], { ttlSeconds: 0 })).expect(400);
    expect(bad.body.message).toEqual(expect.arrayContaining([expect.stringContaining('ttlSeconds')]));
    await e.http().post('/exercise-cache').set('Cache-Control', 'no-store').set('X-Cache-Lease', '0'.repeat(32)).send(storeBody('cc_no_store', ['a'])).expect(400);
  });
});
