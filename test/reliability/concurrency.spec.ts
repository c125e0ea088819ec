import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { TestApp, startTestApp } from '../support/test-app';
import { pollUntil } from './support/own-postgres';

/** Long on A and B: a waiter there can only get the lock early because the holder let go or died. */
const LONG_WAIT_MS = 120000;
/** On C: how long a waiter waits for a holder that hangs before generating itself. */
const SHORT_WAIT_MS = 1000;

/** A generator that takes `ms` and returns a new exercise each call (so sameness is visible). */
const slowGenerator = (label: string, ms = 150) =>
  jest.fn(async () => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { id: randomUUID(), by: label };
  });

/** A generator that does not return until the test lets it. */
function hangingGenerator(label: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const generate = jest.fn(async () => {
    await released;
    return { id: randomUUID(), by: label };
  });
  return { generate, release };
}

describe('concurrency', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let c: TestApp;
  let cacheA: ExerciseCacheService;
  let cacheB: ExerciseCacheService;
  let cacheC: ExerciseCacheService;

  const rows = async (context: { type: string; difficulty: number; topics: string[] }) =>
    (await db.pool.query('SELECT cache_key, exercise_data FROM exercise_cache WHERE context_key = $1', [cacheKeyFor(context)])).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { SINGLE_FLIGHT_WAIT_MS: String(LONG_WAIT_MS), RATE_LIMIT_MAX: '0' };
    a = await startTestApp(db.url, env);
    b = await startTestApp(db.url, env);
    c = await startTestApp(db.url, { ...env, SINGLE_FLIGHT_WAIT_MS: String(SHORT_WAIT_MS) });
    cacheA = a.app.get(ExerciseCacheService);
    cacheB = b.app.get(ExerciseCacheService);
    cacheC = c.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await c?.close();
    await db?.drop();
  });

  it('200 concurrent POSTs of one context store one row and all succeed', async () => {
    const context = { type: 'concurrent_post', difficulty: 3, topics: ['race'] };
    const fastify = [a.app.getHttpAdapter().getInstance(), b.app.getHttpAdapter().getInstance()];
    const responses = (await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fastify[i % 2].inject({ method: 'POST', url: '/exercise-cache', payload: { context, exercise: { writer: i } } }),
      ),
    )) as LightMyRequestResponse[];
    expect(responses.map((r) => r.statusCode)).toEqual(Array(200).fill(201));
    expect(new Set(responses.map((r) => r.json().key))).toEqual(new Set([cacheKeyFor(context)]));
    const stored = await rows(context);
    expect(stored).toHaveLength(1);
    // The row holds one of the exercises that were sent, whole.
    expect(stored[0].exercise_data).toEqual({ writer: expect.any(Number) });
  });

  it('200 concurrent misses over two instances run the generator once and all get the same exercise', async () => {
    const context = { type: 'single_flight', difficulty: 2, topics: ['replicas'] };
    const generate = slowGenerator('shared');
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? cacheA : cacheB).getOrGenerate(context, generate)));
    expect(generate).toHaveBeenCalledTimes(1);
    const [first] = results;
    expect(first).toEqual({ id: expect.any(String), by: 'shared' });
    expect(results.every((exercise) => exercise.id === first.id)).toBe(true);
    expect((await rows(context)).map((r) => r.exercise_data)).toEqual([first]);
  });

  it("when the holder's session dies, the other instance's waiters take over and generate", async () => {
    const context = { type: 'single_flight_holder_dies', difficulty: 4, topics: ['crash'] };
    const holder = hangingGenerator('A');
    const takeover = slowGenerator('B', 20);
    const onA = cacheA.getOrGenerate(context, holder.generate);
    await pollUntil(async () => holder.generate.mock.calls.length, (n) => n === 1); // A holds the lock and generates
    const onB = Array.from({ length: 50 }, () => cacheB.getOrGenerate(context, takeover));
    // B is waiting for A's lock.
    await pollUntil(
      async () => (await db.pool.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0].n,
      (n) => n >= 1,
    );
    const started = Date.now();
    const { rows: killed } = await db.pool.query(
      `SELECT pg_terminate_backend(l.pid) AS terminated FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND s.application_name = 'exercise-cache-locks' AND s.datname = current_database()`,
    );
    expect(killed).toEqual([{ terminated: true }]);
    const fromB = await Promise.all(onB);
    const tookOverAfter = Date.now() - started;
    expect(takeover).toHaveBeenCalledTimes(1);
    expect(fromB.every((exercise) => exercise.by === 'B' && exercise.id === fromB[0].id)).toBe(true);
    // B's waiters would wait LONG_WAIT_MS for a live holder: they got the lock because A's session died.
    expect(tookOverAfter).toBeLessThan(LONG_WAIT_MS / 4);
    expect((await rows(context)).map((r) => r.exercise_data)).toEqual([fromB[0]]);
    // A survives losing its lock connection (no uncaught error), and its caller still gets A's exercise.
    holder.release();
    await expect(onA).resolves.toEqual({ id: expect.any(String), by: 'A' });
    expect(await cacheA.get(context)).toEqual({ id: expect.any(String), by: expect.stringMatching(/^[AB]$/) });
  });

  it('when the holder hangs, waiters on another instance give up after SINGLE_FLIGHT_WAIT_MS and generate themselves', async () => {
    const context = { type: 'single_flight_holder_hangs', difficulty: 1, topics: ['stuck'] };
    const holder = hangingGenerator('A');
    const fallback = slowGenerator('C', 20);
    const onA = cacheA.getOrGenerate(context, holder.generate);
    await pollUntil(async () => holder.generate.mock.calls.length, (n) => n === 1);
    const started = Date.now();
    const fromC = await Promise.all(Array.from({ length: 20 }, () => cacheC.getOrGenerate(context, fallback)));
    const waited = Date.now() - started;
    expect(fallback).toHaveBeenCalledTimes(1);
    expect(fromC.every((exercise) => exercise.by === 'C' && exercise.id === fromC[0].id)).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(SHORT_WAIT_MS - 50); // it did wait for the holder first
    holder.release();
    await expect(onA).resolves.toEqual({ id: expect.any(String), by: 'A' });
  });
});
