import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { pollUntil } from '../support/poll';
import { contextFor, gatedGenerator } from './cache-test-kit';
import { expireEntry } from '../support/seed';

/** Stale answers (stale-while-revalidate, max-stale) from variant buckets: only when no variant is live. */
describe(`${ExerciseCacheService.name} stale answers from variant buckets`, () => {
  let db: TestDatabase;
  let app: TestApp;
  let cache: ExerciseCacheService;
  const VARIANTS = 3;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db.url, { STALE_WHILE_REVALIDATE_SECONDS: '600' });
    cache = app.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  /** A bucket of `count` variants ("<label> 1".."<label> count"), those listed in `expiredAgo` expired that many seconds ago. */
  async function bucket(label: string, count: number, expiredAgo: Record<number, number>, options: { generatorVersion?: string } = {}) {
    const context = contextFor(label);
    for (let n = 1; n <= count; n++) await cache.set(context, { question: `${label} ${n}` }, { variants: VARIANTS, ...options });
    for (const [variant, seconds] of Object.entries(expiredAgo)) await expireEntry(db.pool, cacheKeyFor(context, Number(variant)), seconds);
    return context;
  }
  const questionsOf = async (context: ReturnType<typeof contextFor>, times: number, options: Parameters<ExerciseCacheService['get']>[1] = {}) => {
    const seen = new Set<unknown>();
    for (let i = 0; i < times; i++) seen.add((await cache.get(context, { variants: VARIANTS, ...options }))?.question ?? null);
    return seen;
  };

  it('a bucket whose variants all expired within their window answers with one of them, counted as stale', async () => {
    const context = await bucket('swr_bucket_all', 2, { 1: 60, 2: 60 });
    const entry = await cache.lookup(context, { variants: VARIANTS });
    expect(entry?.expiresAt.getTime()).toBeLessThan(Date.now());
    expect(['swr_bucket_all 1', 'swr_bucket_all 2']).toContain(entry?.exercise.question);
    const types = await cache.statsByType();
    expect(types.find((row) => row.exerciseType === 'swr_bucket_all')).toMatchObject({ hits: 0, stale: 1, misses: 0 });
  });

  it('a live variant always wins over a stale one', async () => {
    const context = await bucket('swr_bucket_mixed', 2, { 1: 60 });
    expect(await questionsOf(context, 10)).toEqual(new Set(['swr_bucket_mixed 2']));
  });

  it('past the window it is a miss, unless maxStaleSeconds allows it', async () => {
    const context = await bucket('swr_bucket_old', 1, { 1: 700 });
    expect(await cache.get(context, { variants: VARIANTS })).toBeNull();
    expect(await cache.get(context, { variants: VARIANTS, maxStaleSeconds: 900 })).toEqual({ question: 'swr_bucket_old 1' });
    expect(await cache.get(context, { variants: VARIANTS, maxStaleSeconds: 650 })).toBeNull();
  });

  it('never answers with an excluded stale variant, or one of another generator version', async () => {
    const context = await bucket('swr_bucket_excl', 2, { 1: 60, 2: 60 }, { generatorVersion: 'v1' });
    expect(await questionsOf(context, 10, { exclude: [cacheKeyFor(context, 1)] })).toEqual(new Set(['swr_bucket_excl 2']));
    expect(await cache.get(context, { variants: VARIANTS, generatorVersion: 'v2' })).toBeNull();
  });

  it('getOrGenerate answers a stale variant at once and regenerates that slot once in the background', async () => {
    const context = await bucket('swr_bucket_gen', 1, { 1: 60 });
    const { generate, release } = gatedGenerator('fresh');
    let answers: { question?: unknown }[] | undefined;
    const calls = Promise.all(Array.from({ length: 10 }, () => cache.getOrGenerate(context, generate, { variants: VARIANTS }))).then((all) => (answers = all));
    try {
      // The generator is held: every caller must be answered without it.
      await pollUntil(() => answers, Boolean, { what: 'the callers to be answered while generate() is held' });
      await pollUntil(() => generate.mock.calls.length === 1, Boolean, { what: 'the background refresh to start' });
    } finally {
      release();
      await calls;
    }
    expect(answers!.every((answer) => answer.question === 'swr_bucket_gen 1')).toBe(true);
    const slotOne = async () => (await db.pool.query('SELECT exercise_data FROM exercise_cache WHERE cache_key = $1', [cacheKeyFor(context, 1)])).rows[0]?.exercise_data;
    await pollUntil(slotOne, (data) => data?.id === 'fresh-1', { what: 'the refreshed exercise in slot 1' });
    expect(generate).toHaveBeenCalledTimes(1);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache WHERE context_key = $1', [cacheKeyFor(context, 1)]);
    expect(rows[0].n).toBe(1);
  });
});
