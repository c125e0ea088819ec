import { cacheKeyFor } from '../../src/cache/cache-key';
import { Exercise, ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { contextFor, fakeGenerator, gatedGenerator, outcomesOf, rowsOf } from './cache-test-kit';
import { pollUntil } from '../support/poll';

describe(`${ExerciseCacheService.name} variants`, () => {
  let db: TestDatabase;
  let t: TestApp;
  let cache: ExerciseCacheService;

  beforeAll(async () => {
    db = await createTestDatabase();
    // A flush between a miss and the store of a new type's first entry must not move the miss to
    // "(unknown)": a tiny interval makes that happen on every run, not only on a loaded machine.
    t = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '10' });
    cache = t.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  /** The key an exercise was stored under (what a REST client would have been told). */
  async function keyOf(exercise: Exercise): Promise<string> {
    const { rows } = await db.pool.query<{ cache_key: string }>(`SELECT cache_key FROM exercise_cache WHERE exercise_data->>'id' = $1`, [exercise.id]);
    expect(rows).toHaveLength(1);
    return rows[0].cache_key;
  }

  /** One learner: passes back every key it has been given. */
  function learner(context: ReturnType<typeof contextFor>, variants: number) {
    const seen: string[] = [];
    const exercises: Exercise[] = [];
    return {
      seen,
      exercises,
      async next(generate: ReturnType<typeof fakeGenerator>) {
        const exercise = await cache.getOrGenerate(context, generate, { variants, exclude: seen });
        exercises.push(exercise);
        seen.push(await keyOf(exercise));
        return exercise;
      },
    };
  }

  it('with V=3, a learner who passes back its keys sees 3 distinct exercises before the 4th request generates', async () => {
    const context = contextFor('variants_learner');
    const generate = fakeGenerator('learner');
    const filler = learner(context, 3);
    for (let i = 0; i < 3; i++) await filler.next(generate);
    expect(generate).toHaveBeenCalledTimes(3);
    const bucket = await rowsOf(db.pool, 'exercise_type = $1', [context.type]);
    expect(bucket.map((row) => row.variant)).toEqual([1, 2, 3]);
    expect(bucket.map((row) => row.cache_key).sort()).toEqual([1, 2, 3].map((v) => cacheKeyFor(context, v)).sort());
    expect(new Set(bucket.map((row) => row.context_key))).toEqual(new Set([cacheKeyFor(context)]));

    const student = learner(context, 3);
    for (let i = 0; i < 3; i++) await student.next(generate);
    expect(generate).toHaveBeenCalledTimes(3);
    expect(new Set(student.exercises.map((e) => e.id)).size).toBe(3);
    expect(new Set(student.seen)).toEqual(new Set(filler.seen));

    const fourth = await cache.getOrGenerate(context, generate, { variants: 3, exclude: student.seen });
    expect(generate).toHaveBeenCalledTimes(4);
    expect(fourth.id).toBe('learner-4');
    expect(student.exercises.map((e) => e.id)).not.toContain(fourth.id);
    // The bucket stays bounded: the new exercise replaced one of the three.
    const after = await rowsOf(db.pool, 'exercise_type = $1', [context.type]);
    expect(after).toHaveLength(3);
    expect(after.map((row) => row.exercise_data.id)).toContain('learner-4');

    // Served from the cache: a hit. Generated (bucket not full, or all excluded): a miss.
    expect(await cache.statsByType().then((rows) => rows.find((row) => row.exerciseType === context.type))).toMatchObject({
      hits: 3,
      misses: 4,
      totalLookups: 7,
    });
  });

  it('serves a variant the learner has not seen through lookup(), and null when every one is excluded', async () => {
    const context = contextFor('variants_lookup');
    for (let i = 0; i < 3; i++) await cache.set(context, { n: i }, { variants: 3 });
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const entry = await cache.lookup(context, { variants: 3, exclude: seen });
      expect(entry).not.toBeNull();
      expect(seen).not.toContain(entry!.key);
      seen.push(entry!.key);
    }
    expect(await cache.lookup(context, { variants: 3, exclude: seen })).toBeNull();
    await cache.flushUsage();
    expect(await outcomesOf(db.pool, context.type)).toMatchObject({ hits: 3, misses: 1 });
  });

  it('with V=1 and no exclude behaves and keys exactly as without variants', async () => {
    const context = contextFor('variants_one');
    const generate = fakeGenerator('one');
    const plain = await cache.getOrGenerate(context, generate);
    expect(await cache.getOrGenerate(context, generate, { variants: 1 })).toEqual(plain);
    expect(await cache.getOrGenerate(context, generate, { variants: 1, exclude: [] })).toEqual(plain);
    expect(await cache.get(context, { variants: 1 })).toEqual(plain);
    expect(generate).toHaveBeenCalledTimes(1);
    const stored = await cache.set(context, { replaced: true }, { variants: 1 });
    expect(stored.key).toBe(cacheKeyFor(context));
    const rows = await rowsOf(db.pool, 'exercise_type = $1', [context.type]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ cache_key: cacheKeyFor(context), context_key: cacheKeyFor(context), variant: 1, exercise_data: { replaced: true } });
  });

  it('with V=1 and the only key excluded, generates a replacement in the same slot', async () => {
    const context = contextFor('variants_one_excluded');
    const generate = fakeGenerator('one-excluded');
    const first = await cache.getOrGenerate(context, generate);
    const second = await cache.getOrGenerate(context, generate, { exclude: [cacheKeyFor(context)] });
    expect(second.id).not.toBe(first.id);
    expect(generate).toHaveBeenCalledTimes(2);
    expect((await rowsOf(db.pool, 'exercise_type = $1', [context.type])).map((row) => row.exercise_data.id)).toEqual([second.id]);
  });

  it('generates at most 5 times for 50 concurrent callers with V=5 on an empty context', async () => {
    const context = contextFor('variants_concurrent');
    const { generate, release } = gatedGenerator('v5');
    const callers = Array.from({ length: 50 }, () => cache.getOrGenerate(context, generate, { variants: 5 }));
    await pollUntil(() => generate.mock.calls.length > 0, Boolean, { what: 'a generation to start' });
    release();
    const results = await Promise.all(callers);
    expect(generate.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(generate.mock.calls.length).toBeLessThanOrEqual(5);
    const rows = await rowsOf(db.pool, 'exercise_type = $1', [context.type]);
    expect(rows.length).toBeLessThanOrEqual(5);
    const stored = new Set(rows.map((row) => row.exercise_data.id));
    for (const exercise of results) expect(stored).toContain(exercise.id);
  });

  it('uses VARIANTS_PER_CONTEXT when a call names no bucket size', async () => {
    const three = await startTestApp(db.url, { VARIANTS_PER_CONTEXT: '3' });
    try {
      const service = three.app.get(ExerciseCacheService);
      const context = contextFor('variants_configured');
      for (let i = 0; i < 4; i++) await service.set(context, { n: i });
      expect((await rowsOf(db.pool, 'exercise_type = $1', [context.type])).map((row) => row.variant)).toEqual([1, 2, 3]);
    } finally {
      await three.close();
    }
  });

  it('stores new variants while the bucket has room, then replaces the least used', async () => {
    const context = contextFor('variants_replace');
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push((await cache.set(context, { n: i }, { variants: 3 })).key);
    expect(keys).toEqual([1, 2, 3].map((v) => cacheKeyFor(context, v)));
    await db.pool.query('UPDATE exercise_cache SET usage_count = 10 WHERE cache_key = ANY($1)', [[keys[0], keys[2]]]);
    const replaced = await cache.set(context, { n: 'new' }, { variants: 3 });
    expect(replaced.key).toBe(keys[1]);
    const rows = await rowsOf(db.pool, 'exercise_type = $1', [context.type]);
    expect(rows.map((row) => row.exercise_data)).toEqual([{ n: 0 }, { n: 'new' }, { n: 2 }]);
  });

  it('invalidating a context removes all its variants', async () => {
    const context = contextFor('variants_invalidate');
    const generate = fakeGenerator('inv');
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const exercise = await cache.getOrGenerate(context, generate, { variants: 4, exclude: seen });
      seen.push(await keyOf(exercise));
    }
    expect(await rowsOf(db.pool, 'exercise_type = $1', [context.type])).toHaveLength(4);
    expect(await cache.get(context, { variants: 4 })).not.toBeNull();
    expect(await cache.invalidate(context)).toBe(4);
    expect(await rowsOf(db.pool, 'exercise_type = $1', [context.type])).toHaveLength(0);
    expect(await cache.get(context, { variants: 4 })).toBeNull();
    for (const key of seen) expect(await cache.getByKey(key)).toBeNull();
  });

  it('eviction treats variants as entries and removes the least recently used ones', async () => {
    await cache.clear();
    const old = contextFor('variants_evict_old');
    const fresh = contextFor('variants_evict_fresh');
    for (let i = 0; i < 3; i++) await cache.set(old, { n: i }, { variants: 3 });
    for (let i = 0; i < 2; i++) await cache.set(fresh, { n: i }, { variants: 2 });
    await db.pool.query(`UPDATE exercise_cache SET last_used_at = now() - interval '1 day' WHERE exercise_type = $1`, [old.type]);
    expect(await cache.evictLeastRecentlyUsed(2)).toBe(3);
    expect(await rowsOf(db.pool, 'exercise_type = $1', [old.type])).toHaveLength(0);
    expect(await cache.get(old, { variants: 3 })).toBeNull();
    expect(await rowsOf(db.pool, 'exercise_type = $1', [fresh.type])).toHaveLength(2);
    expect(await cache.get(fresh, { variants: 2 })).not.toBeNull();
  });

  it('reports the average number of variants per context by type', async () => {
    const type = 'variants_average';
    for (let i = 0; i < 3; i++) await cache.set({ type, difficulty: 1, topics: ['three'] }, { n: i }, { variants: 3 });
    await cache.set({ type, difficulty: 1, topics: ['one'] }, { n: 1 });
    const row = (await cache.statsByType()).find((r) => r.exerciseType === type);
    expect(row).toMatchObject({ totalEntries: 4, contexts: 2, avgVariantsPerContext: 2 });
  });

  it('rejects bucket sizes and exclude lists out of range, naming the parameter', async () => {
    const context = contextFor('variants_bad');
    await expect(cache.get(context, { variants: 0 })).rejects.toMatchObject({ response: { message: ['variants must be an integer from 1 to 20'] } });
    await expect(cache.getOrGenerate(context, fakeGenerator(), { variants: 21 })).rejects.toMatchObject({
      response: { message: ['variants must be an integer from 1 to 20'] },
    });
    await expect(cache.set(context, {}, { variants: 1.5 })).rejects.toMatchObject({ response: { message: ['variants must be an integer from 1 to 20'] } });
    await expect(cache.get(context, { exclude: ['nope'] })).rejects.toMatchObject({
      response: { message: ['exclude must hold cache keys of 64 lowercase hex characters'] },
    });
    const tooMany = Array.from({ length: 101 }, (_, i) => cacheKeyFor({ ...context, topics: [`k${i}`] }));
    await expect(cache.get(context, { exclude: tooMany })).rejects.toMatchObject({ response: { message: ['exclude must hold at most 100 keys'] } });
    expect(await cache.get(context, { exclude: tooMany.slice(0, 100) })).toBeNull();
  });
});
