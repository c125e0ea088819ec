import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService, NotCachedError } from '../../src/cache/exercise-cache.service';
import { LeaseRepository } from '../../src/cache/lease.repository';
import { MetricsRegistry } from '../../src/metrics/metrics-registry';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { pollUntil } from '../support/poll';
import { contextFor, gatedGenerator } from './cache-test-kit';
import { expireEntry } from '../support/seed';

/** Stale-while-revalidate (RFC 5861) in the library and Nest: stale at once, one refresh in the background. */
describe(`${ExerciseCacheService.name} stale-while-revalidate`, () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let cacheA: ExerciseCacheService;
  let cacheB: ExerciseCacheService;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    db = await createTestDatabase();
    // Two replicas on one database; the setting is the default window of every write.
    a = await startTestApp(db.url, { STALE_WHILE_REVALIDATE_SECONDS: '600' }, { listen: true });
    b = await startTestApp(db.url, { STALE_WHILE_REVALIDATE_SECONDS: '600' }, { listen: true });
    cacheA = a.app.get(ExerciseCacheService);
    cacheB = b.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  /** Stores an exercise, then moves its expiry `secondsAgo` into the past (never read: no L1 copy). */
  async function storeExpired(label: string, secondsAgo: number, options: { staleWhileRevalidateSeconds?: number; generatorVersion?: string } = {}) {
    const context = contextFor(label);
    await cacheA.set(context, { question: `old ${label}` }, options);
    await expireEntry(db.pool, cacheKeyFor(context), secondsAgo);
    return context;
  }
  const metrics = async (app: TestApp) => app.app.get(MetricsRegistry).metrics();
  const storedExercise = async (label: string) =>
    (await db.pool.query('SELECT exercise_data FROM exercise_cache WHERE cache_key = $1', [cacheKeyFor(contextFor(label))])).rows[0]?.exercise_data;

  it('records both windows on the row: the revalidation window, and the larger of both as the grace cleanup waits for', async () => {
    await cacheA.set(contextFor('swr_columns'), { n: 1 }, { staleWhileRevalidateSeconds: 90 });
    const { rows } = await db.pool.query('SELECT stale_while_revalidate_seconds, stale_grace_seconds FROM exercise_cache WHERE cache_key = $1', [cacheKeyFor(contextFor('swr_columns'))]);
    expect(rows).toEqual([{ stale_while_revalidate_seconds: 90, stale_grace_seconds: 90 }]);
    await cacheA.set(contextFor('swr_default'), { n: 1 });
    const byDefault = await db.pool.query('SELECT stale_while_revalidate_seconds FROM exercise_cache WHERE cache_key = $1', [cacheKeyFor(contextFor('swr_default'))]);
    expect(byDefault.rows).toEqual([{ stale_while_revalidate_seconds: 600 }]);
  });

  it('get() and lookup() answer with a stale entry within its window (counted as stale), and not after it', async () => {
    const inWindow = await storeExpired('swr_get', 60);
    expect(await cacheA.get(inWindow)).toEqual({ question: 'old swr_get' });
    const entry = await cacheA.lookup(inWindow);
    expect(entry!.expiresAt.getTime()).toBeLessThan(Date.now());
    const tooOld = await storeExpired('swr_get_old', 601);
    expect(await cacheA.get(tooOld)).toBeNull();
    const types = await cacheA.statsByType();
    expect(types.find((row) => row.exerciseType === 'swr_get')).toMatchObject({ hits: 0, stale: 2, misses: 0 });
    expect(await metrics(a)).toContain('exercise_cache_lookups_total{exercise_type="swr_get",outcome="stale"} 2');
  });

  it('50 concurrent getOrGenerate calls on two replicas all get the stale exercise at once; generate() runs once, in the background', async () => {
    const context = await storeExpired('swr_fifty', 30);
    const { generate, release } = gatedGenerator('fresh');
    // The generator is held until the end: every caller must be answered without it.
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? cacheA : cacheB).getOrGenerate(context, generate)));
    expect(answers.every((answer) => answer.question === 'old swr_fifty')).toBe(true);
    await pollUntil(() => generate.mock.calls.length === 1, Boolean, { what: 'the background refresh to start' });
    release();
    await pollUntil(async () => (await storedExercise('swr_fifty'))?.id === 'fresh-1', Boolean, { what: 'the refreshed exercise to be stored' });
    expect(await cacheB.getOrGenerate(context, generate)).toMatchObject({ id: 'fresh-1' });
    expect(generate).toHaveBeenCalledTimes(1);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache_leases WHERE lease_key = $1', [cacheKeyFor(context)]);
    expect(rows[0].n).toBe(0); // the refresh ended its lease
    const refreshed = (await metrics(a)) + (await metrics(b));
    expect(refreshed).toContain('exercise_cache_background_refreshes_total{outcome="refreshed"} 1');
  });

  it('once the refresh has stored, callers on the other replica get the new exercise and nothing is generated again', async () => {
    const context = await storeExpired('swr_once', 30);
    const first = gatedGenerator('first');
    await cacheA.getOrGenerate(context, first.generate);
    await pollUntil(() => first.generate.mock.calls.length === 1, Boolean, { what: 'the first refresh' });
    first.release();
    await pollUntil(async () => (await storedExercise('swr_once'))?.id === 'first-1', Boolean, { what: 'the first refresh to be stored' });
    const second = gatedGenerator('second');
    expect(await cacheB.getOrGenerate(context, second.generate)).toMatchObject({ id: 'first-1' });
    second.release();
    expect(second.generate).not.toHaveBeenCalled();
  });

  it("a refresh whose lease comes free only after another replica's refresh stored re-reads the slot and generates nothing", async () => {
    const context = await storeExpired('swr_reread', 30);
    const first = gatedGenerator('first');
    const second = gatedGenerator('second');
    second.release();
    const acquire = LeaseRepository.prototype.acquire;
    let calls = 0;
    // B read the stale entry before A stored; B's lease attempt lands only after A stored and released.
    const spy = jest.spyOn(LeaseRepository.prototype, 'acquire').mockImplementation(async function (this: LeaseRepository, ...args) {
      calls += 1;
      if (calls === 2) await pollUntil(async () => (await storedExercise('swr_reread'))?.id === 'first-1', Boolean, { what: "A's refresh to be stored" });
      if (calls === 2) await pollUntil(async () => (await db.pool.query('SELECT 1 FROM exercise_cache_leases WHERE lease_key = $1', [cacheKeyFor(context)])).rowCount === 0, Boolean, { what: "A's lease to end" });
      return acquire.apply(this, args);
    });
    const skippedOnB = async () => Number(/exercise_cache_background_refreshes_total\{outcome="skipped"\} (\d+)/.exec(await metrics(b))?.[1]);
    const skippedBefore = await skippedOnB();
    try {
      expect(await cacheA.getOrGenerate(context, first.generate)).toEqual({ question: 'old swr_reread' });
      await pollUntil(() => first.generate.mock.calls.length === 1, Boolean, { what: "A's refresh" });
      expect(await cacheB.getOrGenerate(context, second.generate)).toEqual({ question: 'old swr_reread' });
      first.release();
      await pollUntil(() => calls >= 2, Boolean, { what: "B's lease attempt" });
      await pollUntil(skippedOnB, (n) => n === skippedBefore + 1, { what: "B's refresh to end, skipped" });
      expect(second.generate).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('a failing background refresh is logged and counted, never an unhandled rejection; the stale entry keeps answering', async () => {
    const context = await storeExpired('swr_fail', 30);
    const generate = jest.fn(async () => {
      throw new Error('provider outage');
    });
    expect(await cacheA.getOrGenerate(context, generate)).toEqual({ question: 'old swr_fail' });
    await pollUntil(async () => (await metrics(a)).includes('exercise_cache_background_refreshes_total{outcome="failed"} 1'), Boolean, { what: 'the failure to be counted' });
    expect(await cacheA.getOrGenerate(context, generate)).toEqual({ question: 'old swr_fail' });
    await pollUntil(() => generate.mock.calls.length === 2, Boolean, { what: 'a second attempt once the first ended' });
    expect(unhandled).toEqual([]);
  });

  it('serves an entry of another generator version as a miss, never as stale', async () => {
    const context = await storeExpired('swr_version', 30, { generatorVersion: 'v1' });
    expect(await cacheA.get(context, { generatorVersion: 'v2' })).toBeNull();
    expect(await cacheA.get(context, { generatorVersion: 'v1' })).toEqual({ question: 'old swr_version' });
  });

  it('maxStaleSeconds serves an expired entry without a revalidation window, up to that many seconds past expiry', async () => {
    const context = await storeExpired('swr_max_stale', 120, { staleWhileRevalidateSeconds: 0 });
    expect(await cacheA.get(context)).toBeNull();
    expect(await cacheA.get(context, { maxStaleSeconds: 60 })).toBeNull();
    expect(await cacheA.get(context, { maxStaleSeconds: 300 })).toEqual({ question: 'old swr_max_stale' });
    await expect(cacheA.get(context, { maxStaleSeconds: -1 })).rejects.toThrow('maxStaleSeconds must be an integer from 0 to 2592000');
  });

  it('onlyIfCached: a miss in getOrGenerate throws NotCachedError, never generates or leases', async () => {
    const context = contextFor('swr_only_if_cached');
    const generate = jest.fn(async () => ({ n: 1 }));
    await expect(cacheA.getOrGenerate(context, generate, { onlyIfCached: true })).rejects.toBeInstanceOf(NotCachedError);
    expect(generate).not.toHaveBeenCalled();
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache_leases WHERE lease_key = $1', [cacheKeyFor(context)]);
    expect(rows[0].n).toBe(0);
    await expect(cacheA.getOrGenerate(contextFor('swr_only_if_cached_bad'), generate, { onlyIfCached: 'yes' as unknown as boolean })).rejects.toThrow('onlyIfCached must be true or false');
  });

  it('cleanup keeps an expired row until its revalidation window ends', async () => {
    const kept = await storeExpired('swr_cleanup_kept', 300);
    const gone = await storeExpired('swr_cleanup_gone', 700);
    await cacheA.cleanupExpired();
    const { rows } = await db.pool.query('SELECT cache_key FROM exercise_cache WHERE cache_key = ANY($1)', [[cacheKeyFor(kept), cacheKeyFor(gone)]]);
    expect(rows.map((row) => row.cache_key)).toEqual([cacheKeyFor(kept)]);
  });

  it('close() waits for a background refresh under way, which stores before the pools close', async () => {
    const c = await startTestApp(db.url, { STALE_WHILE_REVALIDATE_SECONDS: '600' });
    const context = await storeExpired('swr_close', 30);
    const { generate, release } = gatedGenerator('at-close');
    expect(await c.app.get(ExerciseCacheService).getOrGenerate(context, generate)).toEqual({ question: 'old swr_close' });
    await pollUntil(() => generate.mock.calls.length === 1, Boolean, { what: 'the refresh to start' });
    let closed = false;
    const closing = c.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(await storedExercise('swr_close')).toMatchObject({ id: 'at-close-1' });
  });
});
