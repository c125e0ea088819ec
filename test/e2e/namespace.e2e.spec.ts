import { cacheKeyFor } from '../../src/cache/cache-key';
import { E2e, startE2e, storeBody } from './e2e-kit';

/** Namespaces: a hard partition of the cache, part of the key only when given. */
describe('namespace (REST)', () => {
  let e: E2e;

  beforeAll(async () => {
    e = await startE2e();
  });
  afterAll(async () => {
    await e?.close();
  });

  const store = (type: string, topics: string[], namespace?: string, extra: Record<string, unknown> = {}) => {
    const body = storeBody(type, topics, extra);
    return e.http().post('/exercise-cache').send(namespace === undefined ? body : { ...body, context: { ...body.context, namespace } });
  };

  it('stores without a namespace under exactly the key of before, and a namespaced context under a key of its own', async () => {
    const plain = await store('ns_key', ['a']).expect(201);
    expect(plain.body.key).toBe(cacheKeyFor({ type: 'ns_key', difficulty: 3, topics: ['a'] }));
    const scoped = await store('ns_key', ['a'], 'school-1').expect(201);
    expect(scoped.body.key).toBe(cacheKeyFor({ type: 'ns_key', difficulty: 3, topics: ['a'], namespace: 'school-1' }));
    expect(scoped.body.key).not.toBe(plain.body.key);
    const { rows } = await e.db.pool.query('SELECT cache_key, namespace FROM exercise_cache WHERE exercise_type = $1 ORDER BY namespace NULLS FIRST', ['ns_key']);
    expect(rows).toEqual([
      { cache_key: plain.body.key, namespace: null },
      { cache_key: scoped.body.key, namespace: 'school-1' },
    ]);
  });

  it('never answers a lookup from another namespace, or from none', async () => {
    await store('ns_lookup', ['x'], 'tenant-a').expect(201);
    const hit = await e.http().get('/exercise-cache?type=ns_lookup&difficulty=3&topics=x&namespace=tenant-a').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    await e.http().get('/exercise-cache?type=ns_lookup&difficulty=3&topics=x&namespace=tenant-b').expect(404);
    const miss = await e.http().get('/exercise-cache?type=ns_lookup&difficulty=3&topics=x').expect(404);
    expect(miss.body.key).toBe(cacheKeyFor({ type: 'ns_lookup', difficulty: 3, topics: ['x'] }));
    const scopedMiss = await e.http().get('/exercise-cache?type=ns_lookup&difficulty=3&topics=x&namespace=tenant-b').expect(404);
    expect(scopedMiss.body.key).toBe(cacheKeyFor({ type: 'ns_lookup', difficulty: 3, topics: ['x'], namespace: 'tenant-b' }));
  });

  it('keeps near misses inside the namespace', async () => {
    await store('ns_near', ['colors', 'anatomy'], 'tenant-a').expect(201);
    await store('ns_near', ['colors', 'music'], 'tenant-b').expect(201);
    await store('ns_near', ['colors', 'history']).expect(201);
    const a = await e.http().get('/exercise-cache/near?type=ns_near&difficulty=3&topics=colors&namespace=tenant-a').expect(200);
    expect(a.body.map((n: { topics: string[] }) => n.topics)).toEqual([['anatomy', 'colors']]);
    const none = await e.http().get('/exercise-cache/near?type=ns_near&difficulty=3&topics=colors').expect(200);
    expect(none.body.map((n: { topics: string[] }) => n.topics)).toEqual([['colors', 'history']]);
    await e.http().get('/exercise-cache/near?type=ns_near&difficulty=3&topics=colors&namespace=tenant-c').expect(200, []);
  });

  it('keeps variants inside the namespace', async () => {
    for (let i = 0; i < 2; i++) await store('ns_variants', ['v'], 'tenant-a', { variants: 2 }).expect(201);
    // tenant-b's bucket is empty although tenant-a's is full
    await e.http().get('/exercise-cache?type=ns_variants&difficulty=3&topics=v&variants=2&namespace=tenant-b').expect(404);
    const stored = await store('ns_variants', ['v'], 'tenant-b', { variants: 2 }).expect(201);
    expect(stored.body.key).toBe(cacheKeyFor({ type: 'ns_variants', difficulty: 3, topics: ['v'], namespace: 'tenant-b' }));
  });

  it('DELETE ?namespace= removes the whole namespace and answers the count; other namespaces stay', async () => {
    await store('ns_delete', ['a'], 'gone').expect(201);
    await store('ns_delete', ['b'], 'gone').expect(201);
    await store('ns_delete_other', ['c'], 'gone').expect(201);
    const kept = await store('ns_delete', ['a'], 'kept').expect(201);
    const plain = await store('ns_delete', ['a']).expect(201);
    await e.http().get('/exercise-cache?type=ns_delete&difficulty=3&topics=a&namespace=gone').expect(200); // in L1 too
    expect((await e.http().delete('/exercise-cache?namespace=gone').expect(200)).body).toEqual({ removed: 3 });
    await e.http().get('/exercise-cache?type=ns_delete&difficulty=3&topics=a&namespace=gone').expect(404);
    await e.http().get(`/exercise-cache/${kept.body.key}`).expect(200);
    await e.http().get(`/exercise-cache/${plain.body.key}`).expect(200);
    expect((await e.http().delete('/exercise-cache?namespace=gone').expect(200)).body).toEqual({ removed: 0 });
  });

  it('DELETE with a context and a namespace removes only that context in that namespace', async () => {
    await store('ns_delete_ctx', ['a'], 'one').expect(201);
    const other = await store('ns_delete_ctx', ['a'], 'two').expect(201);
    expect((await e.http().delete('/exercise-cache?type=ns_delete_ctx&difficulty=3&topics=a&namespace=one').expect(200)).body).toEqual({ removed: 1 });
    await e.http().get(`/exercise-cache/${other.body.key}`).expect(200);
  });

  it('rejects a malformed namespace with a 400 naming it, and stores nothing', async () => {
    const message = ['namespace must be 1..64 characters of a-z, 0-9, "_", ".", ":" and "-"'];
    for (const bad of ['Upper', 'a b', 'x'.repeat(65), 'ü']) {
      const lookup = await e.http().get(`/exercise-cache?type=ns_bad&difficulty=3&namespace=${encodeURIComponent(bad)}`).expect(400);
      expect(lookup.body.message).toEqual(message);
      const removal = await e.http().delete(`/exercise-cache?namespace=${encodeURIComponent(bad)}`).expect(400);
      expect(removal.body.message).toEqual(message);
    }
    const body = await store('ns_bad', ['a'], 'Upper').expect(400);
    expect(body.body.message).toEqual(['context.namespace must be 1..64 characters of a-z, 0-9, "_", ".", ":" and "-"']);
    await e.http().get('/exercise-cache?type=ns_bad&difficulty=3&namespace=').expect(400);
    const { rows } = await e.db.pool.query('SELECT 1 FROM exercise_cache WHERE exercise_type = $1', ['ns_bad']);
    expect(rows).toEqual([]);
  });

  it('still needs a context when DELETE names no namespace', async () => {
    await e.http().delete('/exercise-cache').expect(400);
    const res = await e.http().delete('/exercise-cache?namespace=a&difficulty=9').expect(400);
    expect(res.body.message).toContain('difficulty must be an integer from 1 to 5');
  });

  it('GET /stats/namespaces counts stored entries and lookup outcomes per namespace', async () => {
    await store('ns_stats', ['a'], 'stats-only').expect(201);
    await store('ns_stats', ['b'], 'stats-only').expect(201);
    await e.http().get('/exercise-cache?type=ns_stats&difficulty=3&topics=a&namespace=stats-only').expect(200);
    const { body } = await e.http().get('/exercise-cache/stats/namespaces').expect(200);
    expect(body.find((row: { name: string | null }) => row.name === 'stats-only')).toEqual({
      name: 'stats-only',
      totalEntries: 2,
      activeEntries: 2,
      expiredEntries: 0,
      totalUsage: 1,
      hits: 1,
      nearHits: 0,
      stale: 0,
      coalesced: 0,
      misses: 0,
      totalLookups: 1,
      cacheHitRate: 100,
      staleRate: 0,
      costSaved: 0.003,
    });
    expect(body.some((row: { name: string | null }) => row.name === null)).toBe(true);
  });
});
