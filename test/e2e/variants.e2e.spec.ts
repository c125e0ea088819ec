import { cacheKeyFor } from '../../src/cache/cache-key';
import { rowsOf } from '../cache/cache-test-kit';
import { E2e, startE2e, storeBody } from './e2e-kit';

const VARIANTS_MESSAGE = 'variants must be an integer from 1 to 20';
const EXCLUDE_KEYS_MESSAGE = 'exclude must hold cache keys of 64 lowercase hex characters';

describe('variants over HTTP (GET ?variants=&exclude=, POST {variants})', () => {
  let e: E2e;

  beforeAll(async () => {
    e = await startE2e();
  });
  afterAll(async () => {
    await e?.close();
  });

  const lookup = (type: string, variants: number, exclude: string[]) =>
    e.http().get(`/exercise-cache?type=${type}&difficulty=2&topics=colors&variants=${variants}${exclude.length ? `&exclude=${exclude.join(',')}` : ''}`);
  const store = (type: string, variants: number, exercise: Record<string, unknown>) =>
    e.http().post('/exercise-cache').send({ context: { type, difficulty: 2, topics: ['colors'] }, exercise, variants });

  it('gives 5 POSTs with variants=5 arriving at once on a new context 5 different slots (none overwritten)', async () => {
    for (const type of ['http_race_a', 'http_race_b', 'http_race_c']) {
      const responses = await Promise.all(Array.from({ length: 5 }, (_, n) => store(type, 5, { n })));
      expect(responses.map((r) => r.status)).toEqual(Array(5).fill(201));
      expect(new Set(responses.map((r) => r.body.key)).size).toBe(5);
      const { rows } = await e.db.pool.query('SELECT variant, exercise_data FROM exercise_cache WHERE exercise_type = $1 ORDER BY variant', [type]);
      expect(rows.map((r) => r.variant)).toEqual([1, 2, 3, 4, 5]);
      expect(rows.map((r) => r.exercise_data.n).sort()).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('lets a caller that generates itself fill a bucket of 3, and a learner then see 3 distinct exercises before a miss', async () => {
    const type = 'http_bucket';
    const filled: string[] = [];
    for (let i = 0; i < 3; i++) {
      const miss = await lookup(type, 3, filled).expect(404);
      expect(miss.headers['x-cache']).toBe('MISS');
      const { body } = await store(type, 3, { n: i }).expect(201);
      expect(filled).not.toContain(body.key);
      filled.push(body.key);
    }
    expect(filled).toEqual([1, 2, 3].map((v) => cacheKeyFor({ type, difficulty: 2, topics: ['colors'] }, v)));

    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const hit = await lookup(type, 3, seen).expect(200);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(seen).not.toContain(hit.body.key);
      seen.push(hit.body.key);
    }
    expect(new Set(seen)).toEqual(new Set(filled));
    const exhausted = await lookup(type, 3, seen).expect(404);
    expect(exhausted.body.key).toBe(filled[0]);

    // The learner's generated exercise replaces one variant: the bucket stays at 3.
    const { body: replaced } = await store(type, 3, { n: 'fresh' }).expect(201);
    expect(filled).toContain(replaced.key);
    expect(await rowsOf(e.db.pool, 'exercise_type = $1', [type])).toHaveLength(3);

    const stats = (await e.http().get('/exercise-cache/stats/types').expect(200)).body.find((r: { exerciseType: string }) => r.exerciseType === type);
    expect(stats).toMatchObject({ hits: 3, misses: 4, contexts: 1, avgVariantsPerContext: 3 });
  });

  it('POST with variants replaces the least used variant once the bucket is full', async () => {
    const type = 'http_least_used';
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) keys.push((await store(type, 3, { n: i }).expect(201)).body.key);
    for (const key of [keys[0], keys[0], keys[2]]) await e.http().get(`/exercise-cache/${key}`).expect(200);
    await e.http().get('/exercise-cache/stats').expect(200); // flushes the buffered uses
    const { body } = await store(type, 3, { n: 'replacement' }).expect(201);
    expect(body.key).toBe(keys[1]);
    const rows = await rowsOf(e.db.pool, 'exercise_type = $1', [type]);
    expect(rows.map((r) => r.exercise_data)).toEqual([{ n: 0 }, { n: 'replacement' }, { n: 2 }]);
  });

  it('without variants, GET and POST use the single context key as before', async () => {
    const { body } = await e.http().post('/exercise-cache').send(storeBody('http_single', ['colors'], {}, 2)).expect(201);
    expect(body.key).toBe(cacheKeyFor({ type: 'http_single', difficulty: 2, topics: ['colors'] }));
    expect((await lookup('http_single', 1, []).expect(200)).body.key).toBe(body.key);
    expect((await e.http().get('/exercise-cache?type=http_single&difficulty=2&topics=colors').expect(200)).body.key).toBe(body.key);
    await lookup('http_single', 1, [body.key]).expect(404);
  });

  it.each([
    ['variants=0', 'variants=0', [VARIANTS_MESSAGE]],
    ['variants=21', 'variants=21', [VARIANTS_MESSAGE]],
    ['variants=2.5', 'variants=2.5', [VARIANTS_MESSAGE]],
    ['variants=many', 'variants=many', [VARIANTS_MESSAGE]],
    ['a malformed exclude key', `exclude=${'a'.repeat(64)},not-a-key`, [EXCLUDE_KEYS_MESSAGE]],
    ['an upper-case exclude key', `exclude=${'A'.repeat(64)}`, [EXCLUDE_KEYS_MESSAGE]],
    ['101 exclude keys', `exclude=${Array.from({ length: 101 }, (_, i) => cacheKeyFor({ type: 'x', difficulty: 1, topics: [`${i}`] })).join(',')}`, ['exclude must hold at most 100 keys']],
    [
      '101 repeated exclude keys',
      Array.from({ length: 101 }, (_, i) => `exclude=${cacheKeyFor({ type: 'x', difficulty: 1, topics: [`${i}`] })}`).join('&'),
      ['exclude must hold at most 100 keys'],
    ],
  ])('GET rejects %s with 400 naming the parameter', async (_, query, messages) => {
    const res = await e.http().get(`/exercise-cache?type=http_bad&difficulty=2&${query}`).expect(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: messages });
  });

  it('GET accepts exactly 100 exclude keys', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => cacheKeyFor({ type: 'x', difficulty: 1, topics: [`${i}`] }));
    await e.http().get(`/exercise-cache?type=http_bad&difficulty=2&variants=20&exclude=${keys.join(',')}`).expect(404);
  });

  it.each([
    [0, VARIANTS_MESSAGE],
    [21, VARIANTS_MESSAGE],
    ['3', VARIANTS_MESSAGE],
  ])('POST rejects variants %p with 400 naming the field', async (variants, message) => {
    const res = await e.http().post('/exercise-cache').send(storeBody('http_bad', ['a'], { variants })).expect(400);
    expect(res.body.message).toEqual([message]);
  });
});
