import request from 'supertest';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { outcomesOf } from '../cache/cache-test-kit';
import { TestApp, startTestApp } from '../support/test-app';
import { E2e, startE2e, storeBody } from './e2e-kit';
import { pollUntil } from '../support/poll';

/** Generator versions: an entry of another version is not fresh for a lookup that names one. */
describe('generatorVersion (REST)', () => {
  let e: E2e;
  let other: TestApp; // a second replica on the same database

  beforeAll(async () => {
    e = await startE2e();
    other = await startTestApp(e.db.url, {}, { listen: true });
  });
  afterAll(async () => {
    await other?.close();
    await e?.close();
  });

  const store = (type: string, topics: string[], generatorVersion?: string, extra: Record<string, unknown> = {}) =>
    e.http().post('/exercise-cache').send(storeBody(type, topics, generatorVersion === undefined ? extra : { ...extra, generatorVersion }));
  const versionsOf = async (type: string) =>
    (await e.db.pool.query('SELECT cache_key, generator_version FROM exercise_cache WHERE exercise_type = $1 ORDER BY variant', [type])).rows;

  it('treats an entry of another version as a miss (counted) and the next store replaces it under the same key', async () => {
    const v1 = await store('gv_basic', ['a'], 'prompt-v1/model-a').expect(201);
    expect(v1.body.key).toBe(cacheKeyFor({ type: 'gv_basic', difficulty: 3, topics: ['a'] }));
    const hit = await e.http().get('/exercise-cache?type=gv_basic&difficulty=3&topics=a&generatorVersion=prompt-v1/model-a').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    const miss = await e.http().get('/exercise-cache?type=gv_basic&difficulty=3&topics=a&generatorVersion=prompt-v2/model-a').expect(404);
    expect(miss.headers['x-cache']).toBe('MISS');
    // a lookup that names no version takes any version
    await e.http().get('/exercise-cache?type=gv_basic&difficulty=3&topics=a').expect(200);
    await e.t.app.get(ExerciseCacheService).flushUsage();
    expect(await outcomesOf(e.db.pool, 'gv_basic')).toMatchObject({ hits: 2, misses: 1 });

    const v2 = await store('gv_basic', ['a'], 'prompt-v2/model-a').expect(201);
    expect(v2.body.key).toBe(v1.body.key);
    expect(await versionsOf('gv_basic')).toEqual([{ cache_key: v1.body.key, generator_version: 'prompt-v2/model-a' }]);
    await e.http().get('/exercise-cache?type=gv_basic&difficulty=3&topics=a&generatorVersion=prompt-v2/model-a').expect(200);
    await e.http().get('/exercise-cache?type=gv_basic&difficulty=3&topics=a&generatorVersion=prompt-v1/model-a').expect(404);
  });

  it('is not served by another replica from its L1 once a new version is stored', async () => {
    await store('gv_replicas', ['r'], 'v1').expect(201);
    const replica = () => request(other.url!);
    await replica().get('/exercise-cache?type=gv_replicas&difficulty=3&topics=r&generatorVersion=v1').expect(200); // now in its L1
    await store('gv_replicas', ['r'], 'v2').expect(201);
    await pollUntil(async () => (await replica().get('/exercise-cache?type=gv_replicas&difficulty=3&topics=r&generatorVersion=v2')).status === 200, Boolean, { what: 'the other replica to serve v2' });
    await replica().get('/exercise-cache?type=gv_replicas&difficulty=3&topics=r&generatorVersion=v1').expect(404);
  });

  it('serves only variants of the version and replaces old-version variants in place', async () => {
    await store('gv_variants', ['v'], 'old', { variants: 2 }).expect(201);
    await store('gv_variants', ['v'], 'old', { variants: 2 }).expect(201);
    const keys = (await versionsOf('gv_variants')).map((row: { cache_key: string }) => row.cache_key);
    await e.http().get('/exercise-cache?type=gv_variants&difficulty=3&topics=v&variants=2&generatorVersion=new').expect(404);
    await store('gv_variants', ['v'], 'new', { variants: 2 }).expect(201);
    await store('gv_variants', ['v'], 'new', { variants: 2 }).expect(201);
    const rows = await versionsOf('gv_variants');
    expect(rows.map((row: { cache_key: string }) => row.cache_key)).toEqual(keys); // no extra rows
    expect(rows.map((row: { generator_version: string }) => row.generator_version)).toEqual(['new', 'new']);
    await e.http().get('/exercise-cache?type=gv_variants&difficulty=3&topics=v&variants=2&generatorVersion=new').expect(200);
  });

  it('getOrGenerate naming a version regenerates an entry of another version once, in place', async () => {
    const cache = e.t.app.get(ExerciseCacheService);
    const context = { type: 'gv_generate', difficulty: 2, topics: ['g'] };
    await cache.set(context, { q: 'old' }, { generatorVersion: 'v1' });
    const generate = jest.fn(async () => ({ q: 'new' }));
    expect(await cache.getOrGenerate(context, generate, { generatorVersion: 'v2' })).toEqual({ q: 'new' });
    expect(await cache.getOrGenerate(context, generate, { generatorVersion: 'v2' })).toEqual({ q: 'new' });
    expect(generate).toHaveBeenCalledTimes(1);
    expect(await versionsOf('gv_generate')).toEqual([{ cache_key: cacheKeyFor(context), generator_version: 'v2' }]);
  });

  it('a lease lookup naming a version gets the lease over an entry of another version', async () => {
    await store('gv_lease', ['l'], 'v1').expect(201);
    const res = await e.http().get('/exercise-cache?type=gv_lease&difficulty=3&topics=l&generatorVersion=v2&lease=30').expect(404);
    const token = res.headers['x-cache-lease'];
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    await e.http().post('/exercise-cache').set('x-cache-lease', token).send(storeBody('gv_lease', ['l'], { generatorVersion: 'v2' })).expect(201);
    expect((await versionsOf('gv_lease')).map((row: { generator_version: string }) => row.generator_version)).toEqual(['v2']);
  });

  it('POST /maintenance/retire removes every other version (and unversioned entries), per namespace when given, and records the run', async () => {
    await e.db.pool.query('DELETE FROM exercise_cache');
    await store('gv_retire', ['a'], 'keep').expect(201);
    await store('gv_retire', ['b'], 'old').expect(201);
    await store('gv_retire', ['c']).expect(201);
    const scoped = (topics: string[], version: string, namespace: string) => {
      const body = storeBody('gv_retire', topics, { generatorVersion: version });
      return e.http().post('/exercise-cache').send({ ...body, context: { ...body.context, namespace } });
    };
    await scoped(['d'], 'old', 'tenant').expect(201);
    await scoped(['e'], 'keep', 'tenant').expect(201);

    const inNamespace = await e.http().post('/exercise-cache/maintenance/retire').send({ generatorVersion: 'keep', namespace: 'tenant' }).expect(200);
    expect(inNamespace.body).toMatchObject({ job: 'retire', affected: 1 });
    const everywhere = await e.http().post('/exercise-cache/maintenance/retire').send({ generatorVersion: 'keep' }).expect(200);
    expect(everywhere.body).toMatchObject({ job: 'retire', affected: 2 });
    const { rows } = await e.db.pool.query('SELECT topics, generator_version FROM exercise_cache ORDER BY topics');
    expect(rows).toEqual([
      { topics: ['a'], generator_version: 'keep' },
      { topics: ['e'], generator_version: 'keep' },
    ]);
    const runs = await e.http().get('/exercise-cache/maintenance/runs?job=retire').expect(200);
    expect(runs.body.map((run: { job: string; status: string; affected: number }) => [run.job, run.status, run.affected])).toEqual([
      ['retire', 'ok', 2],
      ['retire', 'ok', 1],
    ]);
  });

  it('rejects a missing or malformed version with a 400 naming it, storing nothing', async () => {
    const message = ['generatorVersion must be 1..100 printable ASCII characters'];
    expect((await e.http().post('/exercise-cache/maintenance/retire').send({}).expect(400)).body.message).toEqual(message);
    expect((await e.http().post('/exercise-cache/maintenance/retire').send({ generatorVersion: 'x'.repeat(101) }).expect(400)).body.message).toEqual(message);
    expect((await store('gv_bad', ['a'], 'tab\there').expect(400)).body.message).toEqual(message);
    expect((await e.http().get('/exercise-cache?type=gv_bad&difficulty=3&generatorVersion=').expect(400)).body.message).toEqual(message);
    expect((await versionsOf('gv_bad'))).toEqual([]);
  });

  it('GET /stats/generator-versions counts stored entries per version', async () => {
    await store('gv_stats', ['a'], 'stats-v1').expect(201);
    await store('gv_stats', ['b'], 'stats-v1').expect(201);
    await store('gv_stats', ['c'], 'stats-v2').expect(201);
    const { body } = await e.http().get('/exercise-cache/stats/generator-versions').expect(200);
    const byName = new Map(body.map((row: { name: string | null; totalEntries: number }) => [row.name, row.totalEntries]));
    expect(byName.get('stats-v1')).toBe(2);
    expect(byName.get('stats-v2')).toBe(1);
  });
});
