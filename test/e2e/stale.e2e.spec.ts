import { cacheKeyFor } from '../../src/cache/cache-key';
import { E2e, startE2e, storeBody } from './e2e-kit';
import { expireEntry } from '../support/seed';

/** Stale answers over REST: stale-while-revalidate (RFC 5861) and max-stale (RFC 9111). */
describe('stale answers (REST)', () => {
  let e: E2e;
  beforeAll(async () => {
    e = await startE2e({ STALE_IF_ERROR_SECONDS: '900' });
  });
  afterAll(async () => {
    await e?.close();
  });

  const context = (type: string) => ({ type, difficulty: 3, topics: ['a'] });
  const lookup = (type: string, query: Record<string, unknown> = {}) => e.http().get('/exercise-cache').query({ type, difficulty: 3, topics: 'a', ...query });
  /** Stores, then moves expiry `secondsAgo` into the past. */
  async function storeExpired(type: string, secondsAgo: number, extra: Record<string, unknown> = {}) {
    await e.http().post('/exercise-cache').send(storeBody(type, ['a'], extra)).expect(201);
    await expireEntry(e.db.pool, cacheKeyFor(context(type)), secondsAgo);
  }

  it('answers an entry within its stale-while-revalidate window: 200, X-Cache: STALE, Age, Cache-Control with the window left', async () => {
    await storeExpired('stale_swr', 100, { staleWhileRevalidateSeconds: 600 });
    const res = await lookup('stale_swr').expect(200);
    expect(res.headers['x-cache']).toBe('STALE');
    expect(Number(res.headers.age)).toBeGreaterThanOrEqual(3700);
    expect(res.headers['cache-control']).toMatch(/^private, max-age=0, stale-while-revalidate=(49\d|500)$/);
    expect(res.headers.etag).toBeDefined();
    expect(res.headers.warning).toBeUndefined();
    expect(res.headers['x-cache-lease']).toBeUndefined(); // a plain GET never gets the lease
    expect(res.body.exercise).toEqual({ question: 'stale_swr: a?', answer: 42 });
  });

  it('answers 404 once the window has passed', async () => {
    await storeExpired('stale_swr_past', 700, { staleWhileRevalidateSeconds: 600 });
    await lookup('stale_swr_past').expect(404);
  });

  it('max-stale=N accepts an entry expired at most N s ago; a bare max-stale one within its stored grace', async () => {
    await storeExpired('stale_max', 120);
    await lookup('stale_max').expect(404);
    await lookup('stale_max').set('Cache-Control', 'max-stale=60').expect(404);
    const res = await lookup('stale_max').set('Cache-Control', 'max-stale=300').expect(200);
    expect(res.headers['x-cache']).toBe('STALE');
    expect(res.headers['cache-control']).toBe('private, max-age=0');
    // The grace it was stored with is STALE_IF_ERROR_SECONDS (900).
    expect((await lookup('stale_max').set('Cache-Control', 'max-stale').expect(200)).headers['x-cache']).toBe('STALE');
    await storeExpired('stale_max_old', 1000);
    await lookup('stale_max_old').set('Cache-Control', 'max-stale').expect(404);
  });

  it('only-if-cached answers with an entry max-stale allows instead of 504', async () => {
    await storeExpired('stale_only', 30);
    await lookup('stale_only').set('Cache-Control', 'only-if-cached').expect(504);
    expect((await lookup('stale_only').set('Cache-Control', 'only-if-cached, max-stale=60').expect(200)).headers['x-cache']).toBe('STALE');
  });

  it('refuses a staleWhileRevalidateSeconds outside 0..2592000 with a 400 naming it, storing nothing', async () => {
    for (const value of [-1, 2_592_001, 'soon']) {
      const res = await e.http().post('/exercise-cache').send(storeBody('stale_bad_window', ['a'], { staleWhileRevalidateSeconds: value })).expect(400);
      expect(JSON.stringify(res.body.message)).toContain('staleWhileRevalidateSeconds');
    }
    const { rows } = await e.db.pool.query("SELECT 1 FROM exercise_cache WHERE exercise_type = 'stale_bad_window'");
    expect(rows).toEqual([]);
  });

  it('refuses a malformed max-stale with a 400 naming it', async () => {
    const res = await lookup('stale_bad').set('Cache-Control', 'max-stale=soon').expect(400);
    expect(JSON.stringify(res.body.message)).toContain('max-stale');
  });

  it('with lease, exactly one of many concurrent callers gets the lease token with the stale answer; its store makes the next lookup a hit', async () => {
    await storeExpired('stale_lease', 30, { staleWhileRevalidateSeconds: 600 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => lookup('stale_lease', { lease: 30 })));
    expect(answers.map((res) => [res.status, res.headers['x-cache']])).toEqual(Array.from({ length: 10 }, () => [200, 'STALE']));
    const tokens = answers.map((res) => res.headers['x-cache-lease']).filter(Boolean);
    expect(tokens).toHaveLength(1);
    await e.http().post('/exercise-cache').set('X-Cache-Lease', tokens[0]).send({ ...storeBody('stale_lease', ['a']), exercise: { fresh: true } }).expect(201);
    const next = await lookup('stale_lease', { lease: 30 }).expect(200);
    expect(next.headers['x-cache']).toBe('HIT');
    expect(next.body.exercise).toEqual({ fresh: true });
  });

  it('a variant bucket with no live variant answers a stale one: X-Cache: STALE, and with lease the token for that slot', async () => {
    await e.http().post('/exercise-cache').send(storeBody('stale_bucket', ['a'], { staleWhileRevalidateSeconds: 600, variants: 2 })).expect(201);
    await expireEntry(e.db.pool, cacheKeyFor(context('stale_bucket')), 30);
    const plain = await lookup('stale_bucket', { variants: 2 }).expect(200);
    expect(plain.headers['x-cache']).toBe('STALE');
    const answers = await Promise.all(Array.from({ length: 5 }, () => lookup('stale_bucket', { variants: 2, lease: 30 })));
    expect(answers.map((res) => [res.status, res.headers['x-cache']])).toEqual(Array.from({ length: 5 }, () => [200, 'STALE']));
    const tokens = answers.map((res) => res.headers['x-cache-lease']).filter(Boolean);
    expect(tokens).toHaveLength(1);
    const stored = await e.http().post('/exercise-cache').set('X-Cache-Lease', tokens[0]).send({ ...storeBody('stale_bucket', ['a'], { variants: 2 }), exercise: { fresh: true } }).expect(201);
    expect(stored.body.key).toBe(cacheKeyFor(context('stale_bucket')));
    const next = await lookup('stale_bucket', { variants: 2 }).expect(200);
    expect([next.headers['x-cache'], next.body.exercise]).toEqual(['HIT', { fresh: true }]);
  });

  it('counts stale answers as stale lookups, not hits', async () => {
    await storeExpired('stale_counted', 30, { staleWhileRevalidateSeconds: 600 });
    await lookup('stale_counted').expect(200);
    await lookup('stale_counted').expect(200);
    const { body } = await e.http().get('/exercise-cache/stats/types').expect(200);
    expect(body.find((row: { exerciseType: string }) => row.exerciseType === 'stale_counted')).toMatchObject({ hits: 0, stale: 2, totalLookups: 2, cacheHitRate: 0 });
    const metrics = (await e.http().get('/metrics').expect(200)).text;
    expect(metrics).toContain('exercise_cache_lookups_total{exercise_type="stale_counted",outcome="stale"} 2');
  });
});
