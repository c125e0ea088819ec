import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService, GenerateTimeoutError } from '../../src/cache/exercise-cache.service';
import { MetricsRegistry } from '../../src/metrics/metrics-registry';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { contextFor } from './cache-test-kit';
import { expireEntry } from '../support/seed';

/** Stale-if-error (RFC 5861): a failed generation falls back to a recently expired entry. */
describe(`${ExerciseCacheService.name}.getOrGenerate stale-if-error`, () => {
  let db: TestDatabase;
  let t: TestApp;
  let cache: ExerciseCacheService;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url, { STALE_IF_ERROR_SECONDS: '600' });
    cache = t.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  /** Stores an exercise and moves its expiry into the past (no L1 copy exists: it was never read). */
  async function storeExpired(label: string, secondsAgo: number, options: { generatorVersion?: string } = {}) {
    const context = contextFor(label);
    await cache.set(context, { question: `old ${label}` }, options);
    await expireEntry(db.pool, cacheKeyFor(context), secondsAgo);
    return context;
  }
  const failing = () => jest.fn(async () => {
    throw new Error('provider outage');
  });

  it('serves an entry expired within the window when generate() throws, and keeps it', async () => {
    const context = await storeExpired('sie_throw', 60);
    const generate = failing();
    expect(await cache.getOrGenerate(context, generate)).toEqual({ question: 'old sie_throw' });
    expect(generate).toHaveBeenCalledTimes(1);
    expect(await cache.get(context)).toBeNull(); // still expired: stale answers are only for failures
    expect(await t.app.get(MetricsRegistry).metrics()).toContain('exercise_cache_stale_served_total{exercise_type="sie_throw",reason="error"} 1');
    // The lookup that found nothing fresh is a miss; the fallback that answered is a stale lookup.
    expect((await cache.statsByType()).find((row) => row.exerciseType === 'sie_throw')).toMatchObject({ misses: 2, stale: 1, hits: 0 });
  });

  it('throws the error when the entry expired longer ago than the window', async () => {
    const context = await storeExpired('sie_too_old', 601);
    await expect(cache.getOrGenerate(context, failing())).rejects.toThrow('provider outage');
  });

  it('takes the window per call, and 0 turns it off', async () => {
    const context = await storeExpired('sie_per_call', 60);
    await expect(cache.getOrGenerate(context, failing(), { staleIfErrorSeconds: 30 })).rejects.toThrow('provider outage');
    await expect(cache.getOrGenerate(context, failing(), { staleIfErrorSeconds: 0 })).rejects.toThrow('provider outage');
    expect(await cache.getOrGenerate(context, failing(), { staleIfErrorSeconds: 120 })).toEqual({ question: 'old sie_per_call' });
  });

  it('throws the error when there is no entry at all', async () => {
    await expect(cache.getOrGenerate(contextFor('sie_nothing'), failing())).rejects.toThrow('provider outage');
  });

  it('serves the stale entry when generate() runs past generateTimeoutMs', async () => {
    const context = await storeExpired('sie_timeout', 5);
    const never = jest.fn(() => new Promise<Record<string, unknown>>(() => undefined));
    expect(await cache.getOrGenerate(context, never, { generateTimeoutMs: 50 })).toEqual({ question: 'old sie_timeout' });
    await expect(cache.getOrGenerate(contextFor('sie_timeout_none'), never, { generateTimeoutMs: 50 })).rejects.toBeInstanceOf(GenerateTimeoutError);
  });

  it('serves a live entry of another generator version when generating the asked version fails', async () => {
    const context = contextFor('sie_version');
    await cache.set(context, { question: 'v1' }, { generatorVersion: 'v1' });
    expect(await cache.getOrGenerate(context, failing(), { generatorVersion: 'v2' })).toEqual({ question: 'v1' });
    expect(await cache.get(context, { generatorVersion: 'v2' })).toBeNull();
  });

  it('never serves an excluded entry as stale', async () => {
    const context = await storeExpired('sie_excluded', 60);
    await expect(cache.getOrGenerate(context, failing(), { exclude: [cacheKeyFor(context)] })).rejects.toThrow('provider outage');
  });

  it('rejects out-of-range options with a clear 400', async () => {
    await expect(cache.getOrGenerate(contextFor('sie_bad'), failing(), { staleIfErrorSeconds: -1 })).rejects.toThrow('staleIfErrorSeconds must be an integer from 0 to 2592000');
    await expect(cache.getOrGenerate(contextFor('sie_bad'), failing(), { generateTimeoutMs: 0 })).rejects.toThrow('generateTimeoutMs must be an integer from 1 to 3600000');
  });

  describe('cleanup', () => {
    const count = async (sql: string, values: unknown[] = []) => Number((await db.pool.query(sql, values)).rows[0].n);

    it('keeps an expired entry through its stale grace (still counted as expired), and deletes it after', async () => {
      const inGrace = await storeExpired('sie_cleanup_grace', 60);
      const pastGrace = await storeExpired('sie_cleanup_past', 601);
      const keys = [cacheKeyFor(inGrace), cacheKeyFor(pastGrace)];
      expect(await count('SELECT stale_grace_seconds AS n FROM exercise_cache WHERE cache_key = $1', [keys[0]])).toBe(600);
      expect(await count('SELECT count(*) AS n FROM expired_exercises WHERE cache_key = ANY($1)', [keys])).toBe(2);
      expect(await count(`SELECT expired_entries AS n FROM exercise_cache_stats WHERE exercise_type = 'sie_cleanup_grace'`)).toBe(1);

      expect(await cache.cleanupExpired()).toBeGreaterThanOrEqual(1);
      expect((await db.pool.query('SELECT cache_key FROM exercise_cache WHERE cache_key = ANY($1)', [keys])).rows).toEqual([{ cache_key: keys[0] }]);
      expect(await cache.getOrGenerate(inGrace, failing())).toEqual({ question: 'old sie_cleanup_grace' });

      await db.pool.query(`UPDATE exercise_cache SET expires_at = now() - interval '601 seconds' WHERE cache_key = $1`, [keys[0]]);
      await cache.cleanupExpired();
      expect(await count('SELECT count(*) AS n FROM exercise_cache WHERE cache_key = $1', [keys[0]])).toBe(0);
    });
  });
});
