import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheModule } from '../../src/cache/cache.module';
import { cacheKeyFor, userContextHashFor } from '../../src/cache/cache-key';
import type { CachedEntry } from '../../src/cache/cache-entry';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { AppModule } from '../../src/app.module';
import { validateConfig } from '../../src/config/app-config';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { contextFor, fakeGenerator, rowByKey, rowsOf } from './cache-test-kit';
import { pollUntil } from '../support/poll';

/** What another feature of the application looks like when it uses the cache. */
@Injectable()
class LessonPlanner {
  constructor(readonly cache: ExerciseCacheService) {}

  exerciseFor(topics: string[], generate: Parameters<ExerciseCacheService['getOrGenerate']>[1]) {
    return this.cache.getOrGenerate({ type: 'lesson_fill', difficulty: 2, topics }, generate);
  }
}

@Module({ imports: [CacheModule], providers: [LessonPlanner] })
class LessonsModule {}

describe(ExerciseCacheService.name, () => {
  let db: TestDatabase;
  let t: TestApp;
  let withoutL1: TestApp;
  let cache: ExerciseCacheService;
  let uncached: ExerciseCacheService;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url, { L1_ENABLED: 'true' });
    withoutL1 = await startTestApp(db.url, { L1_ENABLED: 'false' });
    cache = t.app.get(ExerciseCacheService);
    uncached = withoutL1.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await t?.close();
    await withoutL1?.close();
    await db?.drop();
  });

  describe('dependency injection', () => {
    it('is injectable into a provider of another module that imports CacheModule', async () => {
      const config = validateConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', LOG_PRETTY: 'false', DATABASE_URL: db.url, MIGRATE_ON_START: 'false' });
      const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config, { url: db.url }), LessonsModule] }).compile();
      await moduleRef.init();
      try {
        const planner = moduleRef.get(LessonPlanner);
        expect(planner.cache).toBeInstanceOf(ExerciseCacheService);
        expect(planner.cache).toBe(moduleRef.get(ExerciseCacheService));
        const generate = fakeGenerator('lesson');
        const first = await planner.exerciseFor(['Verbs', 'tenses'], generate);
        const second = await planner.exerciseFor(['tenses', 'verbs'], generate);
        expect(second).toEqual(first);
        expect(generate).toHaveBeenCalledTimes(1);
        // Stored where any other replica (here: the test app) finds it.
        expect(await cache.get({ type: 'lesson_fill', difficulty: 2, topics: ['VERBS', 'tenses'] })).toEqual(first);
      } finally {
        await moduleRef.close();
      }
    });
  });

  describe('get, set and lookup', () => {
    it('returns null for a context never stored', async () => {
      expect(await cache.get(contextFor('never_stored'))).toBeNull();
      expect(await cache.lookup(contextFor('never_stored'))).toBeNull();
    });

    it('returns what set stored, for any spelling of the same topics', async () => {
      const exercise = { question: 'The sky is ___', answer: 'blue', choices: ['blue', 'green'], meta: { nested: [1, { deep: true }] } };
      const stored = await cache.set({ type: 'get_set', difficulty: 3, topics: ['Colors', 'sky'] }, exercise);
      expect(stored.key).toBe(cacheKeyFor({ type: 'get_set', difficulty: 3, topics: ['colors', 'sky'] }));
      expect(await cache.get({ type: 'get_set', difficulty: 3, topics: [' sky', 'COLORS', 'sky'] })).toEqual(exercise);
      expect(await uncached.get({ type: 'get_set', difficulty: 3, topics: ['sky', 'colors'] })).toEqual(exercise);
      expect(await cache.get({ type: 'get_set', difficulty: 4, topics: ['sky', 'colors'] })).toBeNull();
      expect(await cache.get({ type: 'get_set', difficulty: 3, topics: ['sky'] })).toBeNull();
    });

    it('lookup returns the entry with its key, timestamps and usage', async () => {
      const context = contextFor('lookup_entry');
      const stored = await cache.set(context, { q: 1 }, { ttlSeconds: 600 });
      const entry = (await uncached.lookup(context)) as CachedEntry;
      expect(entry).toMatchObject({ key: stored.key, exercise: { q: 1 }, usageCount: 0, variant: 1, exerciseType: 'lookup_entry', difficulty: 3 });
      expect(entry.topics).toEqual(['anatomy', 'colors']);
      expect(entry.expiresAt).toEqual(stored.expiresAt);
      expect(entry.expiresAt.getTime() - entry.createdAt.getTime()).toBe(600_000);
    });

    it('stores ttl, generation cost and generation time as given', async () => {
      const context = contextFor('store_options');
      const { key } = await cache.set(context, { q: 1 }, { ttlSeconds: 120, generationCost: 0.0125, generationTimeMs: 4321 });
      const row = (await rowByKey(db.pool, key))!;
      expect(row.generation_cost).toBe('0.012500');
      expect(row.generation_time_ms).toBe(4321);
      expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(120_000);
      expect(row.user_context_hash).toBe(userContextHashFor(context));
      const defaults = (await rowByKey(db.pool, (await cache.set(contextFor('store_defaults'), { q: 1 })).key))!;
      expect(defaults.generation_cost).toBe('0.003000');
      expect(defaults.expires_at.getTime() - defaults.created_at.getTime()).toBe(86_400_000);
    });

    it('replaces the exercise of a context on a second set: one row, new exercise, usage reset', async () => {
      const context = contextFor('set_twice');
      await cache.set(context, { version: 1 });
      await cache.get(context);
      await cache.flushUsage();
      expect((await rowByKey(db.pool, cacheKeyFor(context)))!.usage_count).toBe(1);
      await cache.set(context, { version: 2 });
      expect((await rowByKey(db.pool, cacheKeyFor(context)))!.usage_count).toBe(0);
      expect(await cache.get(context)).toEqual({ version: 2 });
      expect(await uncached.get(context)).toEqual({ version: 2 });
      const rows = await rowsOf(db.pool, 'exercise_type = $1', ['set_twice']);
      expect(rows).toHaveLength(1);
      expect(rows[0].exercise_data).toEqual({ version: 2 });
    });

    it('rejects bad input with a message naming the field', async () => {
      await expect(cache.set({ type: 'Bad Type', difficulty: 3, topics: [] }, {})).rejects.toMatchObject({
        response: { message: ['context.type must be 1..50 characters of a-z, 0-9, "_" and "-"'] },
      });
      await expect(cache.get({ type: 'ok', difficulty: 6, topics: [] })).rejects.toMatchObject({
        response: { message: ['context.difficulty must be an integer from 1 to 5'] },
      });
      await expect(cache.get({ type: 'ok', difficulty: 1, topics: Array.from({ length: 21 }, (_, i) => `t${i}`) })).rejects.toMatchObject({
        response: { message: ['context.topics must hold at most 20 topics'] },
      });
      await expect(cache.get({ type: 'ok', difficulty: 1, topics: ['  '] })).rejects.toMatchObject({
        response: { message: ['context.topics must hold strings of 1..64 characters without control characters'] },
      });
      await expect(cache.set(contextFor('bad_input'), [] as never)).rejects.toMatchObject({ response: { message: ['exercise must be a JSON object'] } });
      await expect(cache.set(contextFor('bad_input'), {}, { ttlSeconds: 0 })).rejects.toMatchObject({
        response: { message: ['ttlSeconds must be an integer from 1 to 2592000'] },
      });
      await expect(cache.set(contextFor('bad_input'), {}, { generationCost: -1 })).rejects.toMatchObject({
        response: { message: ['generationCost must be a number from 0 to 9999'] },
      });
      for (const unstorable of [{ q: 'a\u0000b' }, { 'key\u0000': 1 }, { q: '\ud800' }, { score: Number.NaN }, { n: Infinity }]) {
        await expect(cache.set(contextFor('bad_input'), unstorable)).rejects.toMatchObject({
          response: { message: ['exercise must not contain NUL characters (\\u0000), unpaired surrogates or non-finite numbers'] },
        });
      }
      await expect(cache.getByKey('not-a-key')).rejects.toMatchObject({ response: { message: ['key must be 64 lowercase hex characters'] } });
      expect(await rowsOf(db.pool, 'exercise_type = $1', ['bad_input'])).toHaveLength(0);
    });
  });

  describe('expiry', () => {
    /** Reads until the entry is gone; fails if it is ever returned at or after its expires_at. */
    async function readUntilExpired(service: ExerciseCacheService, context: ReturnType<typeof contextFor>, expiresAt: Date) {
      let served = 0;
      await pollUntil(async () => {
        const startedAt = Date.now();
        const entry = await service.lookup(context);
        if (entry) {
          served += 1;
          expect(startedAt).toBeLessThanOrEqual(entry.expiresAt.getTime());
          expect(entry.expiresAt).toEqual(expiresAt);
        }
        return entry === null;
      }, Boolean, { what: 'the entry to expire', timeoutMs: 5000 });
      return served;
    }

    it.each([
      ['on', () => cache],
      ['off', () => uncached],
    ])('never returns an entry after its expires_at (L1 %s)', async (l1, service) => {
      const context = contextFor(`expiry_l1_${l1}`);
      const { expiresAt } = await service().set(context, { q: 'short-lived' }, { ttlSeconds: 1 });
      expect(await readUntilExpired(service(), context, expiresAt)).toBeGreaterThan(0);
      // Gone for good, although the row stays until cleanup.
      expect(await service().get(context)).toBeNull();
      expect(await service().getByKey(cacheKeyFor(context))).toBeNull();
      expect(await rowsOf(db.pool, 'exercise_type = $1', [context.type])).toHaveLength(1);
    });

    it('stops serving at once when expires_at is moved into the past in SQL (L1 off)', async () => {
      const context = contextFor('expiry_sql', ['only-in-expiry-sql']);
      const { key } = await uncached.set(context, { q: 1 });
      expect(await uncached.get(context)).toEqual({ q: 1 });
      await db.pool.query(`UPDATE exercise_cache SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE cache_key = $1`, [key]);
      expect(await uncached.get(context)).toBeNull();
      expect(await uncached.getByKey(key)).toBeNull();
      expect(await uncached.findSimilar(context)).toEqual([]);
      expect(await uncached.findByTopics(context)).toEqual([]);
    });
  });

  describe('getOrGenerate', () => {
    it('stores the measured generation time', async () => {
      const context = contextFor('generation_time');
      const slow = jest.fn(async () => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return { q: 'slow' };
      });
      await cache.getOrGenerate(context, slow);
      const row = (await rowByKey(db.pool, cacheKeyFor(context)))!;
      expect(row.generation_time_ms).toBeGreaterThanOrEqual(55);
      expect(row.exercise_data).toEqual({ q: 'slow' });
      await cache.getOrGenerate(contextFor('generation_time_given'), async () => ({ q: 1 }), { generationTimeMs: 777, generationCost: 0.5 });
      const given = (await rowByKey(db.pool, cacheKeyFor(contextFor('generation_time_given'))))!;
      expect(given.generation_time_ms).toBe(777);
      expect(given.generation_cost).toBe('0.500000');
    });

    it('passes the canonical context to the generator', async () => {
      const generate = fakeGenerator();
      await cache.getOrGenerate({ type: 'canonical_arg', difficulty: 4, topics: ['B', ' a ', 'b'] }, generate);
      expect(generate).toHaveBeenCalledWith({ type: 'canonical_arg', difficulty: 4, topics: ['a', 'b'] });
    });

    it('rejects a generator result that is not a JSON object and caches nothing', async () => {
      const context = contextFor('bad_generation');
      await expect(cache.getOrGenerate(context, async () => 'text' as never)).rejects.toMatchObject({ response: { message: ['exercise must be a JSON object'] } });
      await expect(cache.getOrGenerate(context, async () => ({ text: 'model output\u0000' }))).rejects.toMatchObject({
        response: { message: ['exercise must not contain NUL characters (\\u0000), unpaired surrogates or non-finite numbers'] },
      });
      expect(await rowsOf(db.pool, 'exercise_type = $1', [context.type])).toHaveLength(0);
    });
  });

  describe('findSimilar', () => {
    it('finds live entries with the same difficulty and topics, of any type, most used first', async () => {
      const topics = ['fractions', 'decimals'];
      const a = await cache.set({ type: 'similar_a', difficulty: 2, topics }, { from: 'a' });
      const b = await cache.set({ type: 'similar_b', difficulty: 2, topics: ['DECIMALS', 'fractions'] }, { from: 'b' });
      await cache.set({ type: 'similar_c', difficulty: 2, topics: ['fractions'] }, { from: 'c: fewer topics' });
      await cache.set({ type: 'similar_d', difficulty: 3, topics }, { from: 'd: other difficulty' });
      const gone = await cache.set({ type: 'similar_e', difficulty: 2, topics }, { from: 'e: expired' });
      await db.pool.query(`UPDATE exercise_cache SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE cache_key = $1`, [gone.key]);
      await db.pool.query('UPDATE exercise_cache SET usage_count = 5 WHERE cache_key = $1', [b.key]);

      const similar = await cache.findSimilar({ type: 'anything', difficulty: 2, topics: ['Fractions', 'decimals'] });
      expect(similar.map((e) => e.key)).toEqual([b.key, a.key]);
      expect(similar.map((e) => e.exercise)).toEqual([{ from: 'b' }, { from: 'a' }]);
      expect((await cache.findSimilar({ type: 'x', difficulty: 2, topics }, 1)).map((e) => e.key)).toEqual([b.key]);
      await expect(cache.findSimilar({ type: 'x', difficulty: 2, topics }, 0)).rejects.toMatchObject({
        response: { message: ['limit must be an integer from 1 to 100'] },
      });
    });
  });

  describe('findByTopics', () => {
    it('ranks live entries of the same type and difficulty by topic overlap, then usage', async () => {
      const type = 'near_rank';
      const set = (topics: string[], extra: { type?: string; difficulty?: number } = {}) =>
        cache.set({ type: extra.type ?? type, difficulty: extra.difficulty ?? 2, topics }, { topics });
      const three = await set(['a', 'b', 'c']);
      const two = await set(['a', 'b']);
      const oneUnused = await set(['a']);
      const oneUsed = await set(['a', 'e']);
      await set(['e', 'f']);
      await set(['a', 'b', 'c'], { type: 'near_rank_other' });
      await set(['a', 'b', 'c'], { difficulty: 3 });
      const expired = await set(['a', 'b', 'c', 'd']);
      await db.pool.query(`UPDATE exercise_cache SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE cache_key = $1`, [expired.key]);
      await db.pool.query('UPDATE exercise_cache SET usage_count = 7 WHERE cache_key = $1', [oneUsed.key]);
      await db.pool.query('UPDATE exercise_cache SET usage_count = 99 WHERE cache_key = $1', [two.key]);

      const context = { type, difficulty: 2, topics: ['A', 'b', 'c', 'd'] };
      const ranked = await cache.findByTopics(context);
      expect(ranked.map((e) => [e.key, e.overlap])).toEqual([
        [three.key, 3],
        [two.key, 2],
        [oneUsed.key, 1],
        [oneUnused.key, 1],
      ]);
      expect(ranked[0].topics).toEqual(['a', 'b', 'c']);
      expect(ranked[0].exercise).toEqual({ topics: ['a', 'b', 'c'] });

      expect((await cache.findByTopics(context, { minOverlap: 2 })).map((e) => e.key)).toEqual([three.key, two.key]);
      expect((await cache.findByTopics(context, { minOverlap: 3 })).map((e) => e.key)).toEqual([three.key]);
      expect(await cache.findByTopics(context, { minOverlap: 4 })).toEqual([]);
      expect((await cache.findByTopics(context, { limit: 3 })).map((e) => e.key)).toEqual([three.key, two.key, oneUsed.key]);
      expect((await cache.findByTopics(context, { minOverlap: 1, limit: 1 })).map((e) => e.key)).toEqual([three.key]);
      expect(await cache.findByTopics({ type, difficulty: 2, topics: [] })).toEqual([]);
      expect(await cache.findByTopics({ type, difficulty: 2, topics: ['z'] })).toEqual([]);
      await expect(cache.findByTopics(context, { minOverlap: 0 })).rejects.toMatchObject({
        response: { message: ['minOverlap must be an integer from 1 to 20'] },
      });
      await expect(cache.findByTopics(context, { limit: 101 })).rejects.toMatchObject({ response: { message: ['limit must be an integer from 1 to 100'] } });
    });
  });

  describe('invalidate', () => {
    it('removes one entry by key, from the database and from L1', async () => {
      const context = contextFor('invalidate_key');
      const { key } = await cache.set(context, { q: 1 });
      expect(await cache.get(context)).toEqual({ q: 1 }); // now in L1
      expect(await cache.invalidate(key)).toBe(1);
      expect(await cache.get(context)).toBeNull();
      expect(await rowByKey(db.pool, key)).toBeUndefined();
      expect(await cache.invalidate(key)).toBe(0);
      await expect(cache.invalidate('ABC')).rejects.toMatchObject({ response: { message: ['key must be 64 lowercase hex characters'] } });
    });

    it('removes every variant of a context, and nothing else', async () => {
      const context = contextFor('invalidate_context');
      for (let i = 0; i < 3; i++) await cache.set(context, { variant: i }, { variants: 3 });
      const neighbour = await cache.set({ ...context, difficulty: 4 }, { q: 'neighbour' });
      expect(await rowsOf(db.pool, 'exercise_type = $1 AND difficulty = 3', [context.type])).toHaveLength(3);
      expect(await cache.get(context)).not.toBeNull();
      expect(await cache.invalidate({ ...context, topics: ['COLORS', 'anatomy'] })).toBe(3);
      expect(await rowsOf(db.pool, 'exercise_type = $1 AND difficulty = 3', [context.type])).toHaveLength(0);
      expect(await cache.get(context)).toBeNull();
      expect(await cache.get(context, { variants: 3 })).toBeNull();
      expect(await rowByKey(db.pool, neighbour.key)).toBeDefined();
      expect(await cache.invalidate(context)).toBe(0);
    });
  });

  describe('clear', () => {
    it('removes every entry and empties L1', async () => {
      const context = contextFor('clear_all');
      await cache.set(context, { q: 1 });
      expect(await cache.get(context)).toEqual({ q: 1 });
      const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM exercise_cache');
      expect(await cache.clear()).toBe(rows[0].n);
      expect(await cache.get(context)).toBeNull();
      expect(await rowsOf(db.pool)).toHaveLength(0);
      expect(await cache.clear()).toBe(0);
    });
  });
});
