import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheRepository } from '../../src/cache/exercise-cache.repository';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { L1Cache } from '../../src/cache/l1-cache';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { contextFor } from './cache-test-kit';
import { pollUntil } from '../support/poll';

/**
 * Two replicas of the service on one database, both with L1 on. Changes made through B must stop
 * A from serving what it holds in its L1; LISTEN/NOTIFY is asynchronous, so the tests poll.
 */
describe('L1 across replicas', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let cacheA: ExerciseCacheService;
  let cacheB: ExerciseCacheService;
  /** Calls through; records what A drops from its L1 (its own deletes and B's notifications). */
  let droppedByA: jest.SpyInstance<void, [Iterable<string>]>;

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestApp(db.url, { L1_ENABLED: 'true' });
    b = await startTestApp(db.url, { L1_ENABLED: 'true' });
    cacheA = a.app.get(ExerciseCacheService);
    cacheB = b.app.get(ExerciseCacheService);
    droppedByA = jest.spyOn(a.app.get(L1Cache), 'delete');
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  const droppedFromA = (key: string) => droppedByA.mock.calls.some(([keys]) => [...keys].includes(key));

  /**
   * Makes A serve the entry from its L1, and proves it does: the row is changed behind the
   * service's back (plain SQL sends no notification) and A still answers with what it holds.
   * First A must have processed B's notification of the write; a read that such a notification
   * overtakes is deliberately not kept in L1.
   */
  async function servedFromL1OfA(context: ReturnType<typeof contextFor>, exercise: Record<string, unknown>) {
    const key = cacheKeyFor(context);
    await pollUntil(() => droppedFromA(key), Boolean, { what: "A to receive B's notification of the write" });
    expect(await cacheA.get(context)).toEqual(exercise);
    await db.pool.query(`UPDATE exercise_cache SET exercise_data = '{"changed":"behind the cache"}' WHERE cache_key = $1`, [cacheKeyFor(context)]);
    expect(await cacheA.get(context)).toEqual(exercise);
    expect(a.app.get(L1Cache).size).toBeGreaterThan(0);
  }

  it('A stops serving its L1 copy once B stores a new exercise for the context', async () => {
    const context = contextFor('l1_set');
    await cacheB.set(context, { version: 1 });
    await servedFromL1OfA(context, { version: 1 });
    await cacheB.set(context, { version: 2 });
    await pollUntil(async () => (await cacheA.get(context))?.version === 2, Boolean, { what: 'A to serve version 2' });
  });

  it('A stops serving an entry B invalidated by key', async () => {
    const context = contextFor('l1_invalidate_key');
    const { key } = await cacheB.set(context, { q: 1 });
    await servedFromL1OfA(context, { q: 1 });
    expect(await cacheB.invalidate(key)).toBe(1);
    await pollUntil(async () => (await cacheA.get(context)) === null, Boolean, { what: 'A to stop serving' });
    expect(await cacheA.getByKey(key)).toBeNull();
  });

  it('A stops serving an entry B invalidated by context', async () => {
    const context = contextFor('l1_invalidate_context');
    await cacheB.set(context, { q: 1 });
    await servedFromL1OfA(context, { q: 1 });
    expect(await cacheB.invalidate(context)).toBe(1);
    await pollUntil(async () => (await cacheA.get(context)) === null, Boolean, { what: 'A to stop serving' });
  });

  it('A stops serving anything once B clears the cache', async () => {
    const first = contextFor('l1_clear', ['one']);
    const second = contextFor('l1_clear', ['two']);
    await cacheB.set(first, { q: 1 });
    await cacheB.set(second, { q: 2 });
    await servedFromL1OfA(first, { q: 1 });
    await servedFromL1OfA(second, { q: 2 });
    await cacheB.clear();
    await pollUntil(async () => (await cacheA.get(first)) === null && (await cacheA.get(second)) === null, Boolean, { what: 'A to serve nothing' });
  });

  it('A drops what B evicts', async () => {
    await cacheB.clear();
    const contexts = [0, 1, 2].map((i) => contextFor('l1_evict', [`e${i}`]));
    for (const [i, context] of contexts.entries()) await cacheB.set(context, { n: i });
    for (const [i, context] of contexts.entries()) await servedFromL1OfA(context, { n: i });
    // e2 is the most recently used entry: the one eviction keeps.
    await db.pool.query(`UPDATE exercise_cache SET last_used_at = now() - interval '1 hour' WHERE cache_key <> $1`, [cacheKeyFor(contexts[2])]);
    expect(await cacheB.evictLeastRecentlyUsed(1)).toBe(2);
    await pollUntil(async () => (await cacheA.get(contexts[0])) === null && (await cacheA.get(contexts[1])) === null, Boolean, { what: 'A to drop evicted entries' });
    expect(await cacheA.get(contexts[2])).not.toBeNull();
  });

  it('A never serves from L1 past expires_at', async () => {
    const context = contextFor('l1_expiry');
    const { expiresAt } = await cacheB.set(context, { q: 'brief' }, { ttlSeconds: 1 });
    let servedFromL1 = 0;
    await pollUntil(async () => {
      const startedAt = Date.now();
      const entry = await cacheA.lookup(context);
      if (entry) {
        servedFromL1 += 1;
        expect(startedAt).toBeLessThanOrEqual(expiresAt.getTime());
      }
      return entry === null;
    }, Boolean, { what: 'the entry to expire', timeoutMs: 5000 });
    expect(servedFromL1).toBeGreaterThan(0);
  });

  it('does not keep a stale copy read while B was writing (notification overtakes the read)', async () => {
    const context = contextFor('l1_read_race');
    const key = cacheKeyFor(context);
    await cacheB.set(context, { version: 1 });
    const repositoryA = a.app.get(ExerciseCacheRepository);
    await pollUntil(() => droppedFromA(key), Boolean, { what: "A to receive B's notification of version 1" });
    droppedByA.mockClear();
    // Lookups read through findServableByKey (live, or stale within a window).
    const read = repositoryA.findServableByKey.bind(repositoryA);
    // A's read returns version 1, but only after B has written version 2 and A has processed B's notification.
    jest.spyOn(repositoryA, 'findServableByKey').mockImplementationOnce(async (k: string) => {
      const row = await read(k);
      await cacheB.set(context, { version: 2 });
      await pollUntil(() => droppedFromA(key), Boolean, { what: "A to receive B's notification of version 2" });
      return row;
    });
    expect(await cacheA.get(context)).toEqual({ version: 1 }); // read before the write: fine for this request
    expect(await cacheA.get(context)).toEqual({ version: 2 }); // but not kept in L1
  });
});
