import { cacheKeyFor } from '../../src/cache/cache-key';
import { E2e, startE2e, storeBody } from '../e2e/e2e-kit';
import request from 'supertest';
import { pollUntil } from '../support/poll';
import { startTestApp } from '../support/test-app';

const TOKEN = /^[0-9a-f]{32}$/;
const query = (type: string, extra: Record<string, unknown> = {}) => ({ type, difficulty: 3, topics: 'colors,anatomy', ...extra });
const context = (type: string) => ({ type, difficulty: 3, topics: ['colors', 'anatomy'] });

describe('leases over HTTP (GET ?lease=&wait=, POST with X-Cache-Lease)', () => {
  let e: E2e;
  beforeAll(async () => {
    e = await startE2e();
  });
  afterAll(async () => {
    await e?.close();
  });

  const lookup = (type: string, extra: Record<string, unknown> = {}) => e.http().get('/exercise-cache').query(query(type, extra));
  const store = (type: string, token: string | undefined, exercise: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const req = e.http().post('/exercise-cache');
    if (token !== undefined) req.set('X-Cache-Lease', token);
    return req.send({ context: context(type), exercise, ...extra });
  };
  const leaseRows = async (type: string) =>
    (await e.db.pool.query('SELECT token FROM exercise_cache_leases WHERE context_key = $1', [cacheKeyFor(context(type))])).rows;
  const metric = async (outcome: string) => {
    const text = (await e.http().get('/metrics').expect(200)).text;
    const line = text.split('\n').find((l) => l.startsWith(`exercise_cache_leases_total{outcome="${outcome}"}`));
    return Number(line?.split(' ')[1]);
  };

  it('gives the first caller that misses a lease (404, X-Cache: MISS, X-Cache-Lease); its POST stores and releases', async () => {
    const miss = await lookup('lease_first', { lease: 30 }).expect(404);
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(miss.headers['x-cache-lease']).toMatch(TOKEN);
    expect(miss.body).toMatchObject({ statusCode: 404, key: cacheKeyFor(context('lease_first')) });

    const other = await lookup('lease_first', { lease: 30, wait: 0 }).expect(404);
    expect(other.headers['x-cache-lease']).toBeUndefined();
    expect(Number(other.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(other.headers['retry-after'])).toBeLessThanOrEqual(30);

    const stored = await store('lease_first', miss.headers['x-cache-lease'], { n: 1 }).expect(201);
    expect(stored.body.key).toBe(cacheKeyFor(context('lease_first')));
    expect(await leaseRows('lease_first')).toEqual([]);
    const hit = await lookup('lease_first', { lease: 30 }).expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['x-cache-lease']).toBeUndefined();
    expect(hit.body.exercise).toEqual({ n: 1 });
  });

  it('a caller that waits gets the holder\'s exercise as soon as it is stored (200, X-Cache: COALESCED)', async () => {
    const holder = await lookup('lease_wait', { lease: 30 }).expect(404);
    const coalescedBefore = await metric('coalesced');
    const waitedBefore = await metric('waited');
    const started = Date.now();
    const waiting = lookup('lease_wait', { lease: 30, wait: 30000 }).then((res) => res);
    await pollUntil(() => metric('waited'), (n) => n > waitedBefore);
    await store('lease_wait', holder.headers['x-cache-lease'], { from: 'holder' }).expect(201);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.headers['x-cache']).toBe('COALESCED');
    expect(res.body.exercise).toEqual({ from: 'holder' });
    // Answered on the store's notification, not at the end of its 30 s wait.
    expect(Date.now() - started).toBeLessThan(30000);
    expect(await metric('coalesced')).toBe(coalescedBefore + 1);
  });

  it('a wait that runs out answers 404 with Retry-After and no token', async () => {
    await lookup('lease_timeout', { lease: 60 }).expect(404);
    const res = await lookup('lease_timeout', { lease: 60, wait: 200 }).expect(404);
    expect(res.headers['x-cache']).toBe('MISS');
    expect(res.headers['x-cache-lease']).toBeUndefined();
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(res.body.message).toContain('another caller holds its lease');
    expect(await metric('timed_out')).toBeGreaterThanOrEqual(1);
  });

  it('a holder that never stores loses the lease after its seconds: a waiting caller gets a new one', async () => {
    const crashed = await lookup('lease_crash', { lease: 1 }).expect(404);
    const next = await lookup('lease_crash', { lease: 30, wait: 10000 }).expect(404);
    expect(next.headers['x-cache-lease']).toMatch(TOKEN);
    expect(next.headers['x-cache-lease']).not.toBe(crashed.headers['x-cache-lease']);
  });

  it('a stale token (its lease expired and went to another caller) gets 409 and stores nothing', async () => {
    const first = await lookup('lease_stale', { lease: 1 }).expect(404);
    const second = await lookup('lease_stale', { lease: 30, wait: 10000 }).expect(404);
    expect(second.headers['x-cache-lease']).toMatch(TOKEN);
    const conflict = await store('lease_stale', first.headers['x-cache-lease'], { from: 'stale' }).expect(409);
    expect(conflict.body).toMatchObject({ statusCode: 409, message: expect.stringContaining('lease expired') });
    await lookup('lease_stale').expect(404);
    expect((await e.db.pool.query('SELECT count(*)::int AS n FROM exercise_cache WHERE context_key = $1', [cacheKeyFor(context('lease_stale'))])).rows[0].n).toBe(0);
    expect(await leaseRows('lease_stale')).toEqual([{ token: second.headers['x-cache-lease'] }]);
    await store('lease_stale', second.headers['x-cache-lease'], { from: 'second' }).expect(201);
    expect((await lookup('lease_stale').expect(200)).body.exercise).toEqual({ from: 'second' });
    expect(await metric('conflict')).toBeGreaterThanOrEqual(1);
  });

  it('a token of another context gets 409; a malformed token 400; both store nothing', async () => {
    const miss = await lookup('lease_mine', { lease: 30 }).expect(404);
    const other = await store('lease_other', miss.headers['x-cache-lease'], { n: 1 }).expect(409);
    expect(other.body.message).toContain('another context');
    const bad = await store('lease_other', 'not-a-token', { n: 1 }).expect(400);
    expect(bad.body.message).toEqual(['X-Cache-Lease must be a lease token: 32 lowercase hex characters']);
    await lookup('lease_other').expect(404);
    await store('lease_mine', miss.headers['x-cache-lease'], { n: 2 }).expect(201);
  });

  it('validates lease and wait, naming them', async () => {
    expect((await lookup('lease_bad', { lease: 0 }).expect(400)).body.message).toEqual(['lease must be an integer from 1 to 300 (seconds)']);
    expect((await lookup('lease_bad', { lease: 301 }).expect(400)).body.message).toEqual(['lease must be an integer from 1 to 300 (seconds)']);
    expect((await lookup('lease_bad', { lease: 5, wait: 30001 }).expect(400)).body.message).toEqual(['wait must be an integer from 0 to 30000 (milliseconds)']);
    expect((await lookup('lease_bad', { wait: 10 }).expect(400)).body.message).toEqual(['wait only applies with lease']);
    expect(await leaseRows('lease_bad')).toEqual([]);
  });

  it('leases one variant slot at a time: with exclude, the holder fills the next free slot', async () => {
    const first = await e.http().post('/exercise-cache').send(storeBody('lease_variants', ['colors', 'anatomy'], { variants: 3 })).expect(201);
    const miss = await lookup('lease_variants', { variants: 3, exclude: first.body.key, lease: 30 }).expect(404);
    expect(miss.body.key).toBe(cacheKeyFor(context('lease_variants'), 2));
    // Another learner who has seen variant 1 waits for the same slot rather than generating.
    const waitedBefore = await metric('waited');
    const waiting = lookup('lease_variants', { variants: 3, exclude: first.body.key, lease: 30, wait: 30000 }).then((res) => res);
    await pollUntil(() => metric('waited'), (n) => n > waitedBefore);
    const stored = await store('lease_variants', miss.headers['x-cache-lease'], { variant: 2 }, { variants: 3 }).expect(201);
    expect(stored.body.key).toBe(cacheKeyFor(context('lease_variants'), 2));
    const res = await waiting;
    expect(res.headers['x-cache']).toBe('COALESCED');
    expect(res.body).toMatchObject({ key: stored.body.key, exercise: { variant: 2 } });
  });

  it('counts honestly: the holder\'s lookup is a miss, a coalesced answer is coalesced (a lookup, not an exact hit)', async () => {
    const before = (await e.http().get('/exercise-cache/stats').expect(200)).body;
    const holder = await lookup('lease_counts', { lease: 30 }).expect(404);
    const waitedBefore = await metric('waited');
    const waiting = lookup('lease_counts', { lease: 30, wait: 30000 }).then((res) => res);
    await pollUntil(() => metric('waited'), (n) => n > waitedBefore);
    await store('lease_counts', holder.headers['x-cache-lease'], { n: 1 }).expect(201);
    expect((await waiting).headers['x-cache']).toBe('COALESCED');
    const after = (await e.http().get('/exercise-cache/stats').expect(200)).body;
    expect(after.totalMisses - before.totalMisses).toBe(1);
    expect(after.totalHits - before.totalHits).toBe(0);
    expect(after.coalesced - before.coalesced).toBe(1);
    expect(after.totalLookups - before.totalLookups).toBe(2);
  });

  it('counts the holder\'s miss under its own type even when flushed before its store of the type\'s first entry', async () => {
    const holder = await lookup('lease_new_type', { lease: 30 }).expect(404);
    // Reading statistics flushes the buffer: the miss is written while the type has no entry yet.
    await e.http().get('/exercise-cache/stats').expect(200);
    await store('lease_new_type', holder.headers['x-cache-lease'], { n: 1 }).expect(201);
    await e.http().get('/exercise-cache/stats').expect(200);
    const { rows } = await e.db.pool.query('SELECT misses::int FROM exercise_cache_lookup_stats WHERE exercise_type = $1', ['lease_new_type']);
    expect(rows).toEqual([{ misses: 1 }]);
  });

  it('the cleanup job removes leases abandoned over an hour ago, and leaves a recently expired one to its late holder', async () => {
    const abandoned = await lookup('lease_abandoned', { lease: 1 }).expect(404);
    const recent = await lookup('lease_recent', { lease: 1 }).expect(404);
    await e.db.pool.query(`UPDATE exercise_cache_leases SET expires_at = now() - interval '61 minutes' WHERE token = $1`, [abandoned.headers['x-cache-lease']]);
    await e.db.pool.query(`UPDATE exercise_cache_leases SET expires_at = now() - interval '5 minutes' WHERE token = $1`, [recent.headers['x-cache-lease']]);
    await e.http().post('/exercise-cache/maintenance/cleanup').expect(200);
    expect(await leaseRows('lease_abandoned')).toEqual([]);
    expect(await leaseRows('lease_recent')).toEqual([{ token: recent.headers['x-cache-lease'] }]);
    await store('lease_recent', recent.headers['x-cache-lease'], { late: true }).expect(201);
  });

  it('leases per namespace: the same context in two namespaces has two leases, and a token stores only in its own', async () => {
    const a = await lookup('lease_ns', { namespace: 'tenant-a', lease: 30 }).expect(404);
    const b = await lookup('lease_ns', { namespace: 'tenant-b', lease: 30 }).expect(404);
    expect(a.headers['x-cache-lease']).toMatch(TOKEN);
    expect(b.headers['x-cache-lease']).toMatch(TOKEN);
    expect(a.body.key).not.toBe(b.body.key);
    const post = (namespace: string, token: string, exercise: Record<string, unknown>) =>
      e.http().post('/exercise-cache').set('X-Cache-Lease', token).send({ context: { ...context('lease_ns'), namespace }, exercise });
    await post('tenant-b', a.headers['x-cache-lease'], { wrong: true }).expect(409);
    await post('tenant-a', a.headers['x-cache-lease'], { tenant: 'a' }).expect(201);
    expect((await lookup('lease_ns', { namespace: 'tenant-a' }).expect(200)).body.exercise).toEqual({ tenant: 'a' });
    await lookup('lease_ns', { namespace: 'tenant-b' }).expect(404);
    await lookup('lease_ns').expect(404);
  });

  it('documents lease, wait, X-Cache-Lease and 409 in the OpenAPI document', async () => {
    const doc = (await e.http().get('/docs-json').expect(200)).body;
    const get = doc.paths['/exercise-cache'].get;
    expect(get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['lease', 'wait']));
    expect(Object.keys(get.responses['404'].headers)).toEqual(expect.arrayContaining(['X-Cache', 'X-Cache-Lease', 'Retry-After']));
    const post = doc.paths['/exercise-cache'].post;
    expect(post.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toContain('header:x-cache-lease');
    expect(post.responses['409']).toBeDefined();
  });
});

describe('leases at shutdown', () => {
  it('a caller still waiting when the service shuts down is answered at once (404, Retry-After: 1, no token); the lease survives the restart', async () => {
    const e = await startE2e();
    try {
      await e.http().get('/exercise-cache').query(query('lease_shutdown', { lease: 60 })).expect(404);
      const waiting = e.http().get('/exercise-cache').query(query('lease_shutdown', { lease: 60, wait: 30000 })).then((res) => res);
      await pollUntil(
        async () => Number(/exercise_cache_leases_total\{outcome="waited"\} (\d+)/.exec((await e.http().get('/metrics')).text)?.[1]),
        (n) => n >= 1,
      );
      const started = Date.now();
      await e.t.close();
      const res = await waiting;
      expect(res.status).toBe(404);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['x-cache-lease']).toBeUndefined();
      // Closing did not sit out the 30 s wait.
      expect(Date.now() - started).toBeLessThan(30000);

      // The lease lives in PostgreSQL: a restarted replica still sees it held.
      const restarted = await startTestApp(e.db.url, {}, { listen: true });
      try {
        const res = await request(restarted.url!).get('/exercise-cache').query(query('lease_shutdown', { lease: 60, wait: 0 })).expect(404);
        expect(res.headers['x-cache-lease']).toBeUndefined();
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(1);
      } finally {
        await restarted.close();
      }
    } finally {
      await e.db.drop();
    }
  });
});
