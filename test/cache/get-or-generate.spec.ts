import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { UsageBuffer } from '../../src/cache/usage-buffer';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { contextFor, fakeGenerator, gatedGenerator, outcomesOf, rowByKey, rowsOf } from './cache-test-kit';
import { pollUntil } from '../support/poll';

describe(`${ExerciseCacheService.name}.getOrGenerate`, () => {
  let db: TestDatabase;
  let t: TestApp;
  let cache: ExerciseCacheService;
  let usage: UsageBuffer;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Counters flush only when asked, so a test can watch callers arrive through UsageBuffer.pending.
    t = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '60000', USAGE_FLUSH_MAX_EVENTS: '100000' });
    cache = t.app.get(ExerciseCacheService);
    usage = t.app.get(UsageBuffer);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  async function resetCacheAndStatistics() {
    await cache.flushUsage();
    await cache.clear();
    await db.pool.query('TRUNCATE exercise_cache_lookup_stats');
  }

  /** Resolves once `count` more lookups have been counted, i.e. that many callers have missed. */
  async function untilCallersMissed(count: number, baseline: number) {
    await pollUntil(() => usage.pending >= baseline + count, Boolean, { what: `${count} callers to miss` });
  }

  describe("the guide's scenario", () => {
    beforeEach(resetCacheAndStatistics);

    it('100 requests over 20 contexts run the generator 20 times and report a hit rate of 80.00', async () => {
      const contexts = Array.from({ length: 20 }, (_, i) => ({ type: 'guide', difficulty: (i % 5) + 1, topics: [`topic-${i}`, 'shared'] }));
      // Each context five times, in a fixed shuffled order.
      const requests = contexts.flatMap((context) => Array.from({ length: 5 }, () => context));
      let seed = 7;
      for (let i = requests.length - 1; i > 0; i--) {
        seed = (seed * 16807) % 2147483647;
        const j = seed % (i + 1);
        [requests[i], requests[j]] = [requests[j], requests[i]];
      }
      const generate = fakeGenerator('guide');
      const served = [];
      for (const context of requests) served.push(await cache.getOrGenerate(context, generate));

      expect(generate).toHaveBeenCalledTimes(20);
      expect(new Set(served.map((e) => e.id)).size).toBe(20);
      const stats = await cache.stats();
      expect(stats).toMatchObject({ totalHits: 80, totalMisses: 20, nearHits: 0, totalLookups: 100, activeEntries: 20 });
      expect(stats.cacheHitRate).toBe(80);
      expect((stats.cacheHitRate as number).toFixed(2)).toBe('80.00');
      expect(stats.totalCostSaved).toBeCloseTo(80 * 0.003, 10);
      expect(await outcomesOf(db.pool, 'guide')).toEqual({ hits: 80, nearHits: 0, misses: 20, costSaved: 0.24 });
    });

    it('gives the same figures when the requests come in concurrent waves', async () => {
      const contexts = Array.from({ length: 20 }, (_, i) => contextFor('guide_waves', [`wave-topic-${i}`]));
      const generate = fakeGenerator('waves');
      for (let wave = 0; wave < 5; wave++) await Promise.all(contexts.map((context) => cache.getOrGenerate(context, generate)));
      expect(generate).toHaveBeenCalledTimes(20);
      const stats = await cache.stats();
      expect(stats).toMatchObject({ totalHits: 80, totalMisses: 20, totalLookups: 100, cacheHitRate: 80 });
    });
  });

  describe('single-flight', () => {
    it('runs the generator once for 50 concurrent callers of one new context, and all get its exercise', async () => {
      const context = contextFor('fifty_callers');
      const { generate, release } = gatedGenerator('fifty');
      const baseline = usage.pending;
      const callers = Array.from({ length: 50 }, () => cache.getOrGenerate(context, generate));
      await untilCallersMissed(50, baseline);
      release();
      const results = await Promise.all(callers);
      expect(generate).toHaveBeenCalledTimes(1);
      expect(results.every((exercise) => exercise.id === 'fifty-1')).toBe(true);
      expect(await rowsOf(db.pool, 'exercise_type = $1', [context.type])).toHaveLength(1);
      expect(await cache.get(context)).toEqual(results[0]);
    });

    it('hands a failure to every waiting caller, caches nothing, and generates again on the next call', async () => {
      const context = contextFor('failing_generation');
      let releaseFailure!: () => void;
      const gate = new Promise<void>((resolve) => (releaseFailure = resolve));
      const failing = jest.fn(async () => {
        await gate;
        throw new Error('model overloaded');
      });
      const baseline = usage.pending;
      const callers = Array.from({ length: 10 }, () => cache.getOrGenerate(context, failing));
      await untilCallersMissed(10, baseline);
      releaseFailure();
      const outcomes = await Promise.allSettled(callers);
      expect(outcomes.map((o) => o.status)).toEqual(Array(10).fill('rejected'));
      for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toEqual(new Error('model overloaded'));
      expect(failing).toHaveBeenCalledTimes(1);
      expect(await rowsOf(db.pool, 'exercise_type = $1', [context.type])).toHaveLength(0);
      expect(await cache.get(context)).toBeNull();

      const generate = fakeGenerator('after-failure');
      expect(await cache.getOrGenerate(context, generate)).toMatchObject({ id: 'after-failure-1' });
      expect(generate).toHaveBeenCalledTimes(1);
      expect((await rowByKey(db.pool, cacheKeyFor(context)))!.exercise_data).toMatchObject({ id: 'after-failure-1' });
    });

    it('keeps different contexts apart: each generates its own exercise', async () => {
      const generate = fakeGenerator('apart');
      const [a, b] = await Promise.all([
        cache.getOrGenerate(contextFor('apart', ['one']), generate),
        cache.getOrGenerate(contextFor('apart', ['two']), generate),
      ]);
      expect(generate).toHaveBeenCalledTimes(2);
      expect(a.id).not.toBe(b.id);
    });
  });

  describe('acceptNearMiss', () => {
    beforeEach(resetCacheAndStatistics);

    it('serves an entry with enough overlapping topics and counts it as a near hit, not a hit', async () => {
      const type = 'near_serve';
      await cache.set({ type, difficulty: 2, topics: ['a', 'b', 'c'] }, { near: 'abc' });
      const generate = fakeGenerator('near');
      const served = await cache.getOrGenerate({ type, difficulty: 2, topics: ['a', 'B', 'd'] }, generate, { acceptNearMiss: { minOverlap: 2 } });
      expect(served).toEqual({ near: 'abc' });
      expect(generate).not.toHaveBeenCalled();

      const stats = await cache.stats();
      expect(stats).toMatchObject({ totalHits: 0, nearHits: 1, totalMisses: 0, totalLookups: 1, cacheHitRate: 0, nearHitRate: 100 });
      expect(stats.totalCostSaved).toBeCloseTo(0.003, 10);
      const [byType] = (await cache.statsByType()).filter((row) => row.exerciseType === type);
      expect(byType).toMatchObject({ hits: 0, nearHits: 1, misses: 0 });
      expect((await rowByKey(db.pool, cacheKeyFor({ type, difficulty: 2, topics: ['a', 'b', 'c'] })))!.usage_count).toBe(1);
      // The near miss is not stored under the requested context.
      expect(await rowByKey(db.pool, cacheKeyFor({ type, difficulty: 2, topics: ['a', 'b', 'd'] }))).toBeUndefined();
    });

    it('generates (a miss) when no entry overlaps enough', async () => {
      const type = 'near_short';
      await cache.set({ type, difficulty: 2, topics: ['a', 'b', 'c'] }, { near: 'abc' });
      const generate = fakeGenerator('near-short');
      const served = await cache.getOrGenerate({ type, difficulty: 2, topics: ['a', 'x', 'y'] }, generate, { acceptNearMiss: { minOverlap: 2 } });
      expect(served).toMatchObject({ id: 'near-short-1' });
      expect(generate).toHaveBeenCalledTimes(1);
      expect(await cache.stats()).toMatchObject({ totalHits: 0, nearHits: 0, totalMisses: 1 });
    });

    it('serves a near miss the learner has not seen when the best candidates are excluded', async () => {
      const type = 'near_excluded';
      const seen = await cache.set({ type, difficulty: 2, topics: ['a', 'b'] }, { seen: true });
      await cache.set({ type, difficulty: 2, topics: ['a', 'b', 'c'] }, { unseen: true });
      await db.pool.query('UPDATE exercise_cache SET usage_count = 50 WHERE cache_key = $1', [seen.key]); // ranked first
      const generate = fakeGenerator('near-excluded');
      const served = await cache.getOrGenerate({ type, difficulty: 2, topics: ['a', 'b'] }, generate, {
        exclude: [seen.key],
        acceptNearMiss: { minOverlap: 2 },
      });
      expect(served).toEqual({ unseen: true });
      expect(generate).not.toHaveBeenCalled();
      expect(await cache.stats()).toMatchObject({ totalHits: 0, nearHits: 1, totalMisses: 0 });
    });

    it('prefers the exact entry over a near miss (an exact hit)', async () => {
      const type = 'near_exact';
      await cache.set({ type, difficulty: 2, topics: ['a', 'b', 'c'] }, { near: 'abc' });
      await cache.set({ type, difficulty: 2, topics: ['a', 'b'] }, { exact: 'ab' });
      const served = await cache.getOrGenerate({ type, difficulty: 2, topics: ['b', 'a'] }, fakeGenerator(), { acceptNearMiss: { minOverlap: 1 } });
      expect(served).toEqual({ exact: 'ab' });
      expect(await cache.stats()).toMatchObject({ totalHits: 1, nearHits: 0, totalMisses: 0 });
    });
  });
});
