import { createExerciseCacheClient, ExerciseCacheBadRequestError, ExerciseCacheForbiddenError, ExerciseCacheUnauthorizedError, ExerciseCacheUnavailableError } from '../../src/client';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { E2e, startE2e } from '../e2e/e2e-kit';
import { pollUntil } from '../support/poll';
import { freePort } from '../support/free-port';

const context = (type: string, topics = ['colors', 'anatomy']) => ({ type, difficulty: 2, topics });

describe('exercise-cache/client against the service', () => {
  let e2e: E2e;
  beforeAll(async () => {
    e2e = await startE2e();
  });
  afterAll(async () => {
    await e2e?.close();
  });
  const client = () => createExerciseCacheClient({ baseUrl: e2e.t.url! });

  it('get answers null on a miss and the stored exercise after set', async () => {
    const c = context('client_get');
    expect(await client().get(c)).toBeNull();
    const stored = await client().set(c, { question: 'q?', answer: 1 }, { ttlSeconds: 600 });
    expect(stored.key).toBe(cacheKeyFor(c));
    const hit = await client().get({ ...c, topics: ['Anatomy', 'COLORS'] });
    expect(hit).toEqual(expect.objectContaining({ key: stored.key, exercise: { question: 'q?', answer: 1 }, expiresAt: stored.expiresAt }));
  });

  it('get with exclude skips the keys a learner has seen', async () => {
    const c = context('client_exclude');
    const stored = await client().set(c, { n: 1 });
    expect(await client().get(c, { exclude: [stored.key] })).toBeNull();
  });

  it('invalidate removes by key and by context, answering how many', async () => {
    const c = context('client_invalidate');
    const { key } = await client().set(c, { n: 1 });
    expect(await client().invalidate(key)).toBe(1);
    expect(await client().invalidate(key)).toBe(0);
    await client().set(c, { n: 2 });
    expect(await client().invalidate(c)).toBe(1);
    expect(await client().get(c)).toBeNull();
  });

  it('near finds entries with overlapping topics; stats counts the lookups', async () => {
    await client().set(context('client_near', ['verbs', 'past']), { n: 1 });
    const near = await client().near(context('client_near', ['verbs', 'future']), { minOverlap: 1 });
    expect(near.map((entry) => entry.topics)).toEqual([['past', 'verbs']]);
    const stats = await client().stats();
    expect(stats.totalLookups).toBeGreaterThan(0);
    expect(typeof stats.cacheHitRate).toBe('number');
  });

  it("getOrGenerate whose lease expired and went to another caller serves that caller's stored exercise, generating once", async () => {
    const c = context('client_orphan');
    const url = `${e2e.t.url}/exercise-cache?type=${c.type}&difficulty=${c.difficulty}&topics=${c.topics.join(',')}&lease=30`;
    const warnings: string[] = [];
    let calls = 0;
    const exercise = await createExerciseCacheClient({ baseUrl: e2e.t.url!, logger: { warn: (message) => warnings.push(message) } }).getOrGenerate(
      c,
      async () => {
        calls += 1;
        // While this caller generates, its 1 s lease runs out; another caller takes it and stores.
        const other = await pollUntil(() => fetch(url), (res) => res.headers.get('x-cache-lease') !== null);
        await client().set(c, { from: 'other' }, { leaseToken: other.headers.get('x-cache-lease')! });
        return { from: 'orphan' };
      },
      { leaseSeconds: 1 },
    );
    expect(exercise).toEqual({ from: 'other' });
    expect(calls).toBe(1);
    expect(warnings).toEqual([expect.stringContaining('lease expired before the exercise was stored')]);
    expect((await client().get(c))?.exercise).toEqual({ from: 'other' });
  });

  it('a 400 is a typed error naming the field', async () => {
    const error = await client()
      .set({ type: 'client_bad', difficulty: 9, topics: [] }, { n: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCacheBadRequestError);
    expect(error).toMatchObject({ status: 400, field: 'context.difficulty' });
  });
});

describe('exercise-cache/client with API keys', () => {
  let e2e: E2e;
  beforeAll(async () => {
    e2e = await startE2e({ API_KEYS: 'client-rw-7c1e9a3b5d,client-ro-2f8d4a6c0e:ro' });
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('401 (no key, wrong key) and 403 (read-only key writing) are distinct errors', async () => {
    const c = context('client_auth');
    await expect(createExerciseCacheClient({ baseUrl: e2e.t.url! }).get(c)).rejects.toBeInstanceOf(ExerciseCacheUnauthorizedError);
    await expect(createExerciseCacheClient({ baseUrl: e2e.t.url!, apiKey: 'wrong' }).get(c)).rejects.toBeInstanceOf(ExerciseCacheUnauthorizedError);
    const readOnly = createExerciseCacheClient({ baseUrl: e2e.t.url!, apiKey: 'client-ro-2f8d4a6c0e' });
    expect(await readOnly.get(c)).toBeNull();
    await expect(readOnly.set(c, { n: 1 })).rejects.toBeInstanceOf(ExerciseCacheForbiddenError);
    const readWrite = createExerciseCacheClient({ baseUrl: e2e.t.url!, apiKey: 'client-rw-7c1e9a3b5d' });
    await readWrite.set(c, { n: 1 });
    expect((await readOnly.get(c))?.exercise).toEqual({ n: 1 });
  });

  it('a read-only key cannot take leases (it could never store): getOrGenerate fails with 403 and generates nothing', async () => {
    const readOnly = createExerciseCacheClient({ baseUrl: e2e.t.url!, apiKey: 'client-ro-2f8d4a6c0e' });
    let generated = 0;
    const error = await readOnly.getOrGenerate(context('client_ro_lease'), async () => ({ n: ++generated })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCacheForbiddenError);
    expect((error as Error).message).toContain('lease needs a read-write API key');
    expect(generated).toBe(0);
    expect((await e2e.db.pool.query('SELECT count(*)::int AS n FROM exercise_cache_leases')).rows[0].n).toBe(0);
    const readWrite = createExerciseCacheClient({ baseUrl: e2e.t.url!, apiKey: 'client-rw-7c1e9a3b5d' });
    expect(await readWrite.getOrGenerate(context('client_rw_lease'), async () => ({ n: ++generated }))).toEqual({ n: 1 });
    expect((await readOnly.get(context('client_rw_lease')))?.exercise).toEqual({ n: 1 });
  });
});

describe('exercise-cache/client retries', () => {
  let e2e: E2e;
  beforeAll(async () => {
    e2e = await startE2e({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '1000' });
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('retries a 429 after its Retry-After and succeeds; without retries the 429 is an error', async () => {
    const c = context('client_rate');
    const warnings: string[] = [];
    const patient = createExerciseCacheClient({ baseUrl: e2e.t.url!, retries: 3, logger: { warn: (message) => warnings.push(message) } });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await patient.get(c));
    expect(results).toEqual([null, null, null, null]);
    expect(warnings.some((message) => message.includes('answered 429'))).toBe(true);

    const impatient = createExerciseCacheClient({ baseUrl: e2e.t.url!, retries: 0 });
    const statuses = await Promise.all([1, 2, 3, 4].map(() => impatient.get(c).then(() => 200, (e: { status?: number }) => e.status)));
    expect(statuses).toContain(429);
  });
});

describe('exercise-cache/client against a service that is not there', () => {
  it('get fails with ExerciseCacheUnavailableError after its retries', async () => {
    const port = await freePort();
    const client = createExerciseCacheClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 1 });
    await expect(client.get(context('client_down'))).rejects.toBeInstanceOf(ExerciseCacheUnavailableError);
  });
});

