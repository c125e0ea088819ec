import { E2e, startE2e, storeBody } from './e2e-kit';

/** Statistics narrowed to a namespace and/or a generator version (?namespace=, ?generatorVersion=). */
describe('statistics per namespace and generator version (REST)', () => {
  let e: E2e;

  const store = (topics: string[], namespace: string | undefined, generatorVersion: string) => {
    const body = storeBody('slice_stats', topics, { generatorVersion });
    return e.http().post('/exercise-cache').send(namespace === undefined ? body : { ...body, context: { ...body.context, namespace } }).expect(201);
  };
  const lookup = (topics: string, namespace?: string, generatorVersion?: string) =>
    e.http().get('/exercise-cache').query({ type: 'slice_stats', difficulty: 3, topics, namespace, generatorVersion });

  beforeAll(async () => {
    e = await startE2e();
    await store(['a'], 'school-1', 'v1');
    await store(['b'], 'school-1', 'v2');
    await store(['a'], undefined, 'v1');
    await lookup('a', 'school-1').expect(200);
    await lookup('a', 'school-1').expect(200);
    await lookup('b', 'school-1', 'v1').expect(404); // another version: a miss counted under v1
    await lookup('zzz', 'school-1').expect(404);
    await lookup('a').expect(200);
  });
  afterAll(async () => {
    await e?.close();
  });

  it('GET /stats?namespace= covers only that namespace: its entries and its lookups', async () => {
    const { body } = await e.http().get('/exercise-cache/stats?namespace=school-1').expect(200);
    expect(body).toMatchObject({ namespace: 'school-1', generatorVersion: null, totalEntries: 2, hits: 2, misses: 2, totalLookups: 4, cacheHitRate: 50 });
  });

  it('GET /stats?namespace=&generatorVersion= narrows by both', async () => {
    const { body } = await e.http().get('/exercise-cache/stats?namespace=school-1&generatorVersion=v1').expect(200);
    expect(body).toMatchObject({ totalEntries: 1, hits: 2, misses: 1, totalLookups: 3, cacheHitRate: 66.67 });
  });

  it('GET /stats/types?namespace= gives per-type rows of that namespace', async () => {
    const { body } = await e.http().get('/exercise-cache/stats/types?namespace=school-1').expect(200);
    expect(body).toEqual([expect.objectContaining({ exerciseType: 'slice_stats', totalEntries: 2, totalLookups: 4 })]);
  });

  it('GET /stats/generator-versions?namespace= and /stats/namespaces?generatorVersion= cross the two', async () => {
    const versions = (await e.http().get('/exercise-cache/stats/generator-versions?namespace=school-1').expect(200)).body;
    // The miss that named no version counts under none (null).
    expect(new Map(versions.map((row: { name: string | null; totalLookups: number }) => [row.name, row.totalLookups]))).toEqual(new Map([['v1', 3], ['v2', 0], [null, 1]]));
    const namespaces = (await e.http().get('/exercise-cache/stats/namespaces?generatorVersion=v1').expect(200)).body;
    expect(namespaces.map((row: { name: string | null; hits: number }) => [row.name, row.hits])).toEqual([['school-1', 2], [null, 1]]);
  });

  it('GET /metrics/daily?namespace=&generatorVersion= gives that slice\'s lookup outcomes per UTC day, live', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const { body } = await e.http().get('/exercise-cache/metrics/daily?namespace=school-1').expect(200);
    expect(body).toEqual([expect.objectContaining({ date: today, hits: 2, misses: 2, totalLookups: 4, cacheHitRate: 50 })]);
    const both = (await e.http().get('/exercise-cache/metrics/daily?days=1&namespace=school-1&generatorVersion=v1').expect(200)).body;
    expect(both).toEqual([expect.objectContaining({ date: today, hits: 2, misses: 1, totalLookups: 3 })]);
    const none = (await e.http().get('/exercise-cache/metrics/daily?namespace=school-2').expect(200)).body;
    expect(none).toEqual([]);
  });

  it('GET /metrics/daily refuses a bad namespace, generatorVersion or days with a 400 naming it', async () => {
    const bad = await e.http().get('/exercise-cache/metrics/daily?namespace=Not%20Valid').expect(400);
    expect(JSON.stringify(bad.body.message)).toContain('namespace');
    const badVersion = await e.http().get('/exercise-cache/metrics/daily?generatorVersion=%7F').expect(400);
    expect(JSON.stringify(badVersion.body.message)).toContain('generatorVersion');
    const badDays = await e.http().get('/exercise-cache/metrics/daily?days=0&namespace=school-1').expect(400);
    expect(JSON.stringify(badDays.body.message)).toContain('days');
  });

  it('refuses a filter that names no valid namespace or version, with a 400 naming it', async () => {
    const bad = await e.http().get('/exercise-cache/stats?namespace=Not%20Valid').expect(400);
    expect(JSON.stringify(bad.body.message)).toContain('namespace');
    const badVersion = await e.http().get('/exercise-cache/stats/namespaces?generatorVersion=%7F').expect(400);
    expect(JSON.stringify(badVersion.body.message)).toContain('generatorVersion');
  });
});
