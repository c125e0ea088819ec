import { cacheKeyFor } from '../../src/cache/cache-key';
import { UNKNOWN_TYPE_BUCKET } from '../../src/cache/context-rules';
import { ExerciseCacheRepository } from '../../src/cache/exercise-cache.repository';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { UsageBuffer } from '../../src/cache/usage-buffer';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { pollUntil } from '../support/poll';
import { gatedGenerator, outcomesOf, rowByKey, rowsOf } from './cache-test-kit';

const today = () => new Date().toISOString().slice(0, 10);

describe(`${ExerciseCacheService.name} statistics`, () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('on a small scenario', () => {
    let t: TestApp;
    let cache: ExerciseCacheService;
    const a1 = { type: 'alpha', difficulty: 2, topics: ['one'] };
    const a2 = { type: 'alpha', difficulty: 2, topics: ['two'] };
    const b1 = { type: 'beta', difficulty: 3, topics: ['one'] };
    const b2 = { type: 'beta', difficulty: 3, topics: ['two'] };

    beforeAll(async () => {
      t = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '60000' });
      cache = t.app.get(ExerciseCacheService);
      await cache.set(a1, { a: 1 }, { generationCost: 0.01, generationTimeMs: 100 });
      await cache.set(a2, { a: 2 }, { generationCost: 0.02, generationTimeMs: 300 });
      await cache.set(b1, { b: 1 }, { generationCost: 0.005, generationTimeMs: 200, variants: 2 });
      await cache.set(b1, { b: 1.2 }, { generationCost: 0.005, generationTimeMs: 200, variants: 2 });
      await cache.set(b2, { b: 2 }, { generationCost: 0.004, generationTimeMs: 400 });
      for (let i = 0; i < 3; i++) await cache.get(a1);
      await cache.get(a2);
      await cache.get({ type: 'alpha', difficulty: 2, topics: ['missing'] });
      await cache.get({ type: 'alpha', difficulty: 2, topics: ['also missing'] });
      await cache.get(b1, { variants: 2 });
      await cache.get(b1, { variants: 2 });
      await cache.get({ type: 'beta', difficulty: 3, topics: ['missing'] });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('stats() reports entries, recorded hits and misses, cost saved and generation figures', async () => {
      const stats = await cache.stats();
      expect(stats).toMatchObject({
        totalEntries: 5,
        activeEntries: 5,
        expiredEntries: 0,
        totalUsage: 6,
        totalHits: 6,
        nearHits: 0,
        totalMisses: 3,
        totalLookups: 9,
        cacheHitRate: 66.67,
        nearHitRate: 0,
        totalGenerationCost: 0.044,
        avgGenerationTimeMs: 240,
      });
      expect(stats.totalCostSaved).toBeCloseTo(3 * 0.01 + 0.02 + 2 * 0.005, 10);
      expect(typeof stats.oldestEntry).toBe('string');
      expect(Date.parse(stats.newestEntry as string)).toBeGreaterThanOrEqual(Date.parse(stats.oldestEntry as string));
    });

    it('statsByType() reports per type, with variants per context', async () => {
      const byType = Object.fromEntries((await cache.statsByType()).map((row) => [row.exerciseType, row]));
      expect(byType.alpha).toMatchObject({
        totalEntries: 2,
        activeEntries: 2,
        expiredEntries: 0,
        contexts: 2,
        avgVariantsPerContext: 1,
        totalUsage: 4,
        avgUsage: 2,
        hits: 4,
        nearHits: 0,
        misses: 2,
        totalLookups: 6,
        cacheHitRate: 66.67,
        estimatedCostSaved: 0.05,
        totalGenerationCost: 0.03,
        avgGenerationTimeMs: 200,
      });
      expect(byType.beta).toMatchObject({
        totalEntries: 3,
        contexts: 2,
        avgVariantsPerContext: 1.5,
        totalUsage: 2,
        hits: 2,
        misses: 1,
        totalLookups: 3,
        cacheHitRate: 66.67,
        estimatedCostSaved: 0.01,
        totalGenerationCost: 0.014,
        avgGenerationTimeMs: 266.67,
      });
    });

    it('popular() lists the most used live entries first', async () => {
      const popular = await cache.popular(10);
      expect(popular).toHaveLength(5);
      expect(popular[0]).toMatchObject({ cacheKey: cacheKeyFor(a1), exerciseType: 'alpha', difficulty: 2, topics: ['one'], variant: 1, usageCount: 3, generationCost: 0.01 });
      expect(popular.map((row) => row.usageCount)).toEqual([3, 1, 1, 1, 0]);
      expect((await cache.popular(1)).map((row) => row.cacheKey)).toEqual([cacheKeyFor(a1)]);
      await expect(cache.popular(0)).rejects.toMatchObject({ response: { message: ['limit must be an integer from 1 to 1000'] } });
    });

    it('leastRecentlyUsed() lists the eviction candidates, the never used entry first', async () => {
      const lru = await cache.leastRecentlyUsed(10);
      expect(lru).toHaveLength(5);
      expect(lru[0]).toMatchObject({ cacheKey: cacheKeyFor(b2), usageCount: 0 });
      expect(lru[4]).toMatchObject({ exerciseType: 'beta' }); // b1's second hit came last
      expect((await cache.leastRecentlyUsed(1)).map((row) => row.cacheKey)).toEqual([cacheKeyFor(b2)]);
    });

    it('dailyMetrics() shows the day after refreshMetrics(), with hits, misses and hit rate', async () => {
      expect((await cache.dailyMetrics(1)).filter((row) => row.exerciseType === 'alpha')).toEqual([]);
      await cache.refreshMetrics();
      const rows = await cache.dailyMetrics(1);
      const alpha = rows.find((row) => row.exerciseType === 'alpha');
      expect(alpha).toEqual({
        date: today(),
        exerciseType: 'alpha',
        difficulty: 2,
        entriesCreated: 2,
        totalAccesses: 6,
        totalCost: 0.03,
        costSaved: 0.05,
        avgGenerationTimeMs: 200,
        hits: 4,
        nearHits: 0,
        misses: 2,
        stale: 0,
        coalesced: 0,
        hitRate: 66.67,
      });
      expect(rows.find((row) => row.exerciseType === 'beta')).toMatchObject({ difficulty: 3, entriesCreated: 3, totalAccesses: 3, hits: 2, misses: 1, hitRate: 66.67 });
      await expect(cache.dailyMetrics(0)).rejects.toMatchObject({ response: { message: ['days must be an integer from 1 to 3660'] } });
    });
  });

  describe('with batched counters', () => {
    it('counts hits, misses and uses exactly when flushes run every 7 events under concurrent lookups', async () => {
      const t = await startTestApp(db.url, { USAGE_FLUSH_MAX_EVENTS: '7', USAGE_FLUSH_INTERVAL_MS: '60000' });
      try {
        const cache = t.app.get(ExerciseCacheService);
        const type = 'batched';
        const contexts = [0, 1, 2].map((i) => ({ type, difficulty: 1, topics: [`b${i}`] }));
        for (const context of contexts) await cache.set(context, { context: context.topics[0] });
        const writes = jest.spyOn(t.app.get(ExerciseCacheRepository), 'writeUsage');
        const expectedUses = [0, 0, 0];
        let misses = 0;
        const lookups: Promise<unknown>[] = [];
        for (let i = 0; i < 600; i++) {
          if (i % 5 === 4) {
            misses += 1;
            lookups.push(cache.get({ type, difficulty: 1, topics: [`absent-${i}`] }));
          } else {
            expectedUses[i % 3] += 1;
            lookups.push(cache.get(contexts[i % 3]));
          }
          if (lookups.length === 50) await Promise.all(lookups.splice(0));
        }
        await Promise.all(lookups);
        // Size-triggered flushes ran while lookups kept arriving (how many depends on timing).
        expect(writes.mock.calls.length).toBeGreaterThanOrEqual(3);

        const stats = (await cache.statsByType()).find((row) => row.exerciseType === type);
        expect(stats).toMatchObject({ hits: 480, misses: 120, totalLookups: 600, cacheHitRate: 80 });
        expect(misses).toBe(120);
        for (const [i, context] of contexts.entries()) {
          expect((await rowByKey(db.pool, cacheKeyFor(context)))!.usage_count).toBe(expectedUses[i]);
        }
        expect(await outcomesOf(db.pool, type)).toMatchObject({ hits: 480, misses: 120 });
      } finally {
        await t.close();
      }
    });

    it('writes buffered counters when the application closes', async () => {
      const t = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '60000' });
      const cache = t.app.get(ExerciseCacheService);
      const type = 'flushed_on_close';
      const context = { type, difficulty: 4, topics: ['close'] };
      const { key } = await cache.set(context, { q: 1 }, { generationCost: 0.002 });
      for (let i = 0; i < 25; i++) await cache.get(context);
      for (let i = 0; i < 5; i++) await cache.get({ ...context, topics: [`gone-${i}`] });
      expect(t.app.get(UsageBuffer).pending).toBe(30);
      // Nothing written yet: the interval is a minute and the batch limit 1000.
      expect((await rowByKey(db.pool, key))!.usage_count).toBe(0);
      expect(await outcomesOf(db.pool, type)).toEqual({ hits: 0, nearHits: 0, misses: 0, costSaved: 0 });

      await t.close();

      expect((await rowByKey(db.pool, key))!.usage_count).toBe(25);
      expect(await outcomesOf(db.pool, type)).toEqual({ hits: 25, nearHits: 0, misses: 5, costSaved: 0.05 });
      const { rows } = await db.pool.query('SELECT day::text FROM exercise_cache_lookup_stats WHERE exercise_type = $1', [type]);
      expect(rows).toEqual([{ day: today() }]);
      expect(await rowsOf(db.pool, 'exercise_type = $1', [type])).toHaveLength(1);
    });
  });

  describe('misses for types with no stored entry', () => {
    const statsRows = async () => Number((await db.pool.query('SELECT count(*) AS n FROM exercise_cache_lookup_stats')).rows[0].n);

    it(`are counted under "${UNKNOWN_TYPE_BUCKET}": 50,000 misses with new types add at most one row per difficulty`, async () => {
      const t = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '60000' });
      try {
        const usage = t.app.get(UsageBuffer);
        const before = await statsRows();
        const before5 = await outcomesOf(db.pool, UNKNOWN_TYPE_BUCKET);
        for (let i = 0; i < 50_000; i++) usage.recordMiss(`invented_${i}`, (i % 5) + 1);
        await usage.flush();
        expect((await statsRows()) - before).toBeLessThanOrEqual(5);
        expect((await outcomesOf(db.pool, UNKNOWN_TYPE_BUCKET)).misses - before5.misses).toBe(50_000);
      } finally {
        await t.close();
      }
    });

    it('are counted under their own type once the type has an entry; lookups of unknown types through the service too', async () => {
      const t = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '60000' });
      try {
        const cache = t.app.get(ExerciseCacheService);
        const known = { type: 'known_type', difficulty: 2, topics: ['here'] };
        await cache.set(known, { q: 1 });
        const before = await statsRows();
        const unknownBefore = await outcomesOf(db.pool, UNKNOWN_TYPE_BUCKET);
        for (let i = 0; i < 40; i++) expect(await cache.get({ type: `never_stored_${i}`, difficulty: 2, topics: ['x'] })).toBeNull();
        expect(await cache.get({ ...known, topics: ['elsewhere'] })).toBeNull();
        expect(await cache.get(known)).toEqual({ q: 1 });
        await cache.flushUsage();
        expect(await outcomesOf(db.pool, 'known_type')).toMatchObject({ hits: 1, misses: 1 });
        expect((await outcomesOf(db.pool, UNKNOWN_TYPE_BUCKET)).misses - unknownBefore.misses).toBe(40);
        expect(await outcomesOf(db.pool, 'never_stored_0')).toMatchObject({ misses: 0 });
        expect((await statsRows()) - before).toBeLessThanOrEqual(2);
      } finally {
        await t.close();
      }
    });

    it('of getOrGenerate are counted under their own type, namespace and version even when flushed before the first store; a REST miss of an invented type is not', async () => {
      const t = await startTestApp(db.url, { USAGE_FLUSH_INTERVAL_MS: '10' });
      try {
        const cache = t.app.get(ExerciseCacheService);
        const usage = t.app.get(UsageBuffer);
        const allMisses = async () => Number((await db.pool.query('SELECT coalesce(sum(misses), 0) AS n FROM exercise_cache_lookup_stats')).rows[0].n);
        const ownRows = async (type: string) =>
          (await db.pool.query('SELECT namespace, generator_version, misses::int FROM exercise_cache_lookup_stats WHERE exercise_type = $1', [type])).rows;
        const unknownBefore = await outcomesOf(db.pool, UNKNOWN_TYPE_BUCKET);
        const missesBefore = await allMisses();

        const context = { type: 'first_of_its_type', difficulty: 2, topics: ['new'], namespace: 'first-namespace' };
        const { generate, release } = gatedGenerator('first');
        const generated = cache.getOrGenerate(context, generate, { generatorVersion: 'first-version' });
        // generate() is held: the miss is written while no entry of this type, namespace or version exists.
        await pollUntil(() => generate.mock.calls.length, (calls) => calls === 1, { what: 'generate() to be called' });
        await pollUntil(() => usage.pending, (pending) => pending === 0, { what: 'the periodic flush to take the miss' });
        await pollUntil(allMisses, (misses) => misses === missesBefore + 1, { what: 'the miss to be written' });
        expect(await rowsOf(db.pool, 'exercise_type = $1', [context.type])).toHaveLength(0);
        release();
        await generated;
        await cache.flushUsage();
        expect(await ownRows(context.type)).toEqual([{ namespace: 'first-namespace', generator_version: 'first-version', misses: 1 }]);
        expect((await outcomesOf(db.pool, UNKNOWN_TYPE_BUCKET)).misses).toBe(unknownBefore.misses);

        // Any client with a read key can invent names: a plain REST miss keeps the bound.
        const response = await t.app.inject({ method: 'GET', url: '/exercise-cache?type=invented_over_rest&difficulty=2&topics=x&namespace=invented-ns' });
        expect(response.statusCode).toBe(404);
        await cache.flushUsage();
        expect(await ownRows('invented_over_rest')).toEqual([]);
        expect((await outcomesOf(db.pool, UNKNOWN_TYPE_BUCKET)).misses).toBe(unknownBefore.misses + 1);
      } finally {
        await t.close();
      }
    });
  });
});
