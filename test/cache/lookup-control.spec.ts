import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { contextFor, fakeGenerator, outcomesOf } from './cache-test-kit';

/** Per-request cache control through the library / Nest service: noCache and maxAgeSeconds. */
describe(`${ExerciseCacheService.name} noCache and maxAgeSeconds`, () => {
  let db: TestDatabase;
  let t: TestApp;
  let cache: ExerciseCacheService;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url);
    cache = t.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const storedSecondsAgo = async (label: string, seconds: number) => {
    const context = contextFor(label);
    const { key } = await cache.set(context, { question: `old ${label}` });
    await db.pool.query('UPDATE exercise_cache SET created_at = created_at - make_interval(secs => $2) WHERE cache_key = $1', [key, seconds]);
    return context;
  };

  it('noCache makes a lookup a counted miss, and getOrGenerate generate anew and replace the entry', async () => {
    const context = await storedSecondsAgo('lc_no_cache', 10);
    expect(await cache.get(context, { noCache: true })).toBeNull();
    const generate = fakeGenerator('fresh');
    expect(await cache.getOrGenerate(context, generate, { noCache: true })).toMatchObject({ id: 'fresh-1' });
    expect(await cache.get(context)).toMatchObject({ id: 'fresh-1' });
    await cache.flushUsage();
    expect(await outcomesOf(db.pool, 'lc_no_cache')).toMatchObject({ hits: 1, misses: 2 });
  });

  it('maxAgeSeconds serves only an entry stored at most that long ago', async () => {
    const context = await storedSecondsAgo('lc_max_age', 120);
    expect(await cache.get(context, { maxAgeSeconds: 60 })).toBeNull();
    expect(await cache.get(context, { maxAgeSeconds: 600 })).toEqual({ question: 'old lc_max_age' });
    const generate = fakeGenerator('young');
    expect(await cache.getOrGenerate(context, generate, { maxAgeSeconds: 60 })).toMatchObject({ id: 'young-1' });
    expect(generate).toHaveBeenCalledTimes(1);
  });

  it('rejects invalid values naming the option', async () => {
    await expect(cache.get(contextFor('lc_bad'), { maxAgeSeconds: -1 })).rejects.toThrow('maxAgeSeconds must be an integer from 0 to 2592000');
    await expect(cache.get(contextFor('lc_bad'), { noCache: 'yes' as unknown as boolean })).rejects.toThrow('noCache must be true or false');
  });
});
