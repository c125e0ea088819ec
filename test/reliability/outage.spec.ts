import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { InvalidationBus } from '../../src/cache/invalidation-bus';
import { L1Cache } from '../../src/cache/l1-cache';
import { TestApp, startTestApp } from '../support/test-app';
import { OwnPostgres, freeze, pollUntil, sleep, startOwnPostgres } from './support/own-postgres';
import { PgProxy } from './support/pg-proxy';

/**
 * Database outages under load: a test-owned PostgreSQL is stopped (connections refused) or
 * frozen (connections accepted, nothing answered) for 5 s while workers keep sending lookups,
 * writes, deletes and statistics requests through real HTTP.
 */

const STATEMENT_TIMEOUT_MS = 1000;
const CONNECT_TIMEOUT_MS = 1000;
/**
 * No request may take longer than the worst case the configuration allows: waiting for a
 * connection (CONNECT_TIMEOUT_MS) plus the client-side query timeout (statement timeout + 1 s),
 * plus a margin for a machine shared with other test runs. A bound, not a speed target.
 */
const REQUEST_BOUND_MS = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 1000 + 3000;
const OUTAGE_MS = 5000;
const RECOVERY_BOUND_MS = 5000;
const UNAVAILABLE = { statusCode: 503, error: 'Service Unavailable', message: 'cache storage unavailable' };

type Op = 'hot' | 'miss' | 'post' | 'delete' | 'stats';
const NORMAL: Record<Op, number> = { hot: 200, miss: 404, post: 201, delete: 404, stats: 200 };
interface Outcome {
  op: Op;
  status: number;
  body: unknown;
  startedAt: number;
  ms: number;
  key?: string;
}

async function sql<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('database outage under load', () => {
  let own: OwnPostgres;
  let t: TestApp;
  let cache: ExerciseCacheService;
  const hot = [1, 2, 3, 4].map((difficulty) => ({ type: 'outage_hot', difficulty, topics: ['warm'] }));
  const hotUrl = (i: number) => `/exercise-cache?type=outage_hot&difficulty=${hot[i].difficulty}&topics=warm`;

  beforeAll(async () => {
    own = await startOwnPostgres('outage');
    t = await startTestApp(
      own.url,
      {
        DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        HEALTH_DB_TIMEOUT_MS: '500',
        USAGE_FLUSH_INTERVAL_MS: '200',
        SINGLE_FLIGHT_WAIT_MS: '1000',
        RATE_LIMIT_MAX: '0',
        L1_ENABLED: 'true',
      },
      { listen: true },
    );
    cache = t.app.get(ExerciseCacheService);
    for (let i = 0; i < hot.length; i++) {
      expect((await call('post', 'POST', '/exercise-cache', { context: hot[i], exercise: { hot: i } })).status).toBe(201);
      expect((await call('hot', 'GET', hotUrl(i))).status).toBe(200); // now in L1
    }
    // Misses are counted under their type only while the type has a stored entry.
    const missTypeEntry = { context: { type: 'outage_miss', difficulty: 2, topics: ['stored'] }, exercise: { stored: true } };
    expect((await call('post', 'POST', '/exercise-cache', missTypeEntry)).status).toBe(201);
  }, 120000);
  afterAll(async () => {
    await t?.close();
    await own?.remove();
  });

  async function call(op: Op, method: string, path: string, body?: unknown): Promise<Outcome> {
    const startedAt = Date.now();
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      // Only so that a hung request fails the test instead of the run; the bound is asserted below.
      signal: AbortSignal.timeout(30000),
    });
    const text = await res.text();
    return { op, status: res.status, body: text ? JSON.parse(text) : undefined, startedAt, ms: Date.now() - startedAt };
  }

  /** Counters in the database after every buffered event is written. */
  async function counters() {
    await pollUntil(() => cache.flushUsage().then(() => true, () => false), Boolean);
    const stats = await sql<{ exercise_type: string; hits: number; misses: number }>(
      own.url,
      'SELECT exercise_type, sum(hits)::int AS hits, sum(misses)::int AS misses FROM exercise_cache_lookup_stats GROUP BY 1',
    );
    const byType = Object.fromEntries(stats.map((s) => [s.exercise_type, { hits: s.hits, misses: s.misses }]));
    const [usage] = await sql<{ n: number }>(own.url, "SELECT coalesce(sum(usage_count), 0)::int AS n FROM exercise_cache WHERE exercise_type = 'outage_hot'");
    return { hotHits: byType.outage_hot?.hits ?? 0, misses: byType.outage_miss?.misses ?? 0, hotUsage: usage.n };
  }

  /**
   * Load before, during and after an interruption of the database; returns every request's
   * outcome and when the interruption started and the service had recovered.
   */
  async function underLoad(name: string, interrupt: () => Promise<() => Promise<void>>, whileDown: () => Promise<void>) {
    const outcomes: Outcome[] = [];
    let running = true;
    let sequence = 0;
    const worker = async (id: number) => {
      while (running) {
        const n = sequence++;
        const op = (['hot', 'miss', 'post', 'hot', 'delete', 'stats'] as Op[])[n % 6];
        let outcome: Outcome;
        if (op === 'hot') outcome = await call(op, 'GET', hotUrl(n % hot.length));
        else if (op === 'miss') outcome = await call(op, 'GET', `/exercise-cache?type=outage_miss&difficulty=2&topics=${name}-${n}`);
        else if (op === 'post') {
          outcome = await call(op, 'POST', '/exercise-cache', { context: { type: 'outage_write', difficulty: 3, topics: [`${name}-${id}-${n}`] }, exercise: { n } });
          if (outcome.status === 201) outcome.key = (outcome.body as { key: string }).key;
        } else if (op === 'delete') outcome = await call(op, 'DELETE', `/exercise-cache/${n.toString(16).padStart(64, 'e')}`);
        else outcome = await call(op, 'GET', '/exercise-cache/stats');
        outcomes.push(outcome);
      }
    };
    const workers = [0, 1, 2].map(worker);
    try {
      await pollUntil(async () => outcomes.length, (n) => n >= 60);
      // The precondition of "hot entries are served from L1 during the outage": the listener is
      // back from any earlier outage (a reconnect clears L1, rightly) and the load has put every
      // hot entry back into L1.
      const bus = t.app.get(InvalidationBus);
      const l1 = t.app.get(L1Cache);
      await pollUntil(async () => bus.listening && hot.every((context) => l1.get(cacheKeyFor(context)) !== undefined), Boolean);
      const downAt = Date.now();
      const resume = await interrupt();
      try {
        await whileDown();
        await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now()));
      } finally {
        await resume();
      }
      const resumedAt = Date.now();
      const probes = await pollUntil(
        async () => [
          await call('post', 'POST', '/exercise-cache', { context: { type: 'outage_probe', difficulty: 1, topics: [name] }, exercise: { probe: true } }),
          await call('miss', 'GET', `/exercise-cache?type=outage_probe&difficulty=5&topics=${name}`),
          await call('stats', 'GET', '/health'),
        ],
        (results) => results.map((p) => p.status).join() === '201,404,200',
        { timeoutMs: RECOVERY_BOUND_MS },
      );
      const recoveredAt = Date.now();
      expect(probes.map((p) => p.status)).toEqual([201, 404, 200]);
      const before = outcomes.length;
      await pollUntil(async () => outcomes.length, (n) => n >= before + 30);
      return { outcomes, downAt, resumedAt, recoveredAt };
    } finally {
      running = false;
      await Promise.all(workers);
    }
  }

  async function expectNothingLost(
    run: { outcomes: Outcome[]; downAt: number; resumedAt: number; recoveredAt: number },
    before: { hotHits: number; misses: number; hotUsage: number },
  ) {
    const { outcomes, downAt, recoveredAt } = run;
    const during = outcomes.filter((o) => o.startedAt + o.ms >= downAt && o.startedAt <= recoveredAt);
    const outside = outcomes.filter((o) => !during.includes(o));
    // Outside the outage every request is answered normally; during it, normally or with the 503.
    for (const o of outside) expect({ op: o.op, status: o.status }).toEqual({ op: o.op, status: NORMAL[o.op] });
    for (const o of during) {
      if (o.status === 503) expect(o.body).toEqual(UNAVAILABLE);
      else expect({ op: o.op, status: o.status }).toEqual({ op: o.op, status: NORMAL[o.op] });
    }
    // Lookups of entries in L1 never needed the database; everything else met the outage.
    expect(during.filter((o) => o.op === 'hot' && o.status !== 200)).toEqual([]);
    for (const op of ['miss', 'post', 'delete', 'stats'] as Op[]) {
      expect({ op, unavailable: during.some((o) => o.op === op && o.status === 503) }).toEqual({ op, unavailable: true });
    }
    // No request hung: each finished within the bound the configuration sets.
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    expect(slowest).toBeLessThan(REQUEST_BOUND_MS);

    // Every acknowledged write is stored; every acknowledged hit and miss is counted once.
    const written = outcomes.filter((o) => o.op === 'post' && o.status === 201).map((o) => o.key!);
    const stored = await sql<{ cache_key: string }>(own.url, 'SELECT cache_key FROM exercise_cache WHERE cache_key = ANY($1)', [written]);
    expect(stored.map((r) => r.cache_key).sort()).toEqual([...written].sort());
    const hits = outcomes.filter((o) => o.op === 'hot' && o.status === 200).length;
    const misses = outcomes.filter((o) => o.op === 'miss' && o.status === 404).length;
    const after = await counters();
    expect({ hotHits: after.hotHits - before.hotHits, hotUsage: after.hotUsage - before.hotUsage }).toEqual({ hotHits: hits, hotUsage: hits });
    expect(after.misses - before.misses).toBe(misses);
    return { hits, misses, slowest, during: during.length, unavailable: during.filter((o) => o.status === 503).length };
  }

  it('database stopped: 503 within the timeout, /health down, degraded getOrGenerate, recovery without a restart, nothing lost', async () => {
    const before = await counters();
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const degradedContext = { type: 'outage_degraded', difficulty: 2, topics: ['offline'] };
    const generate = jest.fn(async () => ({ generated: 'while down' }));
    const run = await underLoad(
      'stopped',
      async () => {
        await own.pg.stop();
        return () => own.pg.restart();
      },
      async () => {
        const health = await pollUntil(() => call('stats', 'GET', '/health'), (o) => o.status === 503);
        expect(health.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
        expect((await call('stats', 'GET', '/health/ready')).status).toBe(503);
        expect((await call('stats', 'GET', '/health/live')).status).toBe(200);
        await expect(cache.getOrGenerate(degradedContext, generate)).resolves.toEqual({ generated: 'while down' });
      },
    );
    const warnings = warn.mock.calls.map((args) => String(args[0]));
    warn.mockRestore();
    expect(generate).toHaveBeenCalledTimes(1);
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining('could not be cached')]));
    const summary = await expectNothingLost(run, before);

    // The exercise generated while the database was down was not cached; now it is.
    const again = jest.fn(async () => ({ generated: 'after recovery' }));
    await expect(cache.getOrGenerate(degradedContext, again)).resolves.toEqual({ generated: 'after recovery' });
    expect(again).toHaveBeenCalledTimes(1);
    await expect(cache.get(degradedContext)).resolves.toEqual({ generated: 'after recovery' });
    // eslint-disable-next-line no-console
    console.log(`stopped: ${run.outcomes.length} requests, ${summary.during} during the outage (${summary.unavailable} answered 503), slowest ${summary.slowest} ms, recovered ${run.recoveredAt - run.resumedAt} ms after restart, ${summary.hits} hits counted`);
  });

  it('database frozen (accepts connections, answers nothing): 503 within the timeout, recovery, nothing lost', async () => {
    const before = await counters();
    const run = await underLoad(
      'frozen',
      async () => {
        const thaw = freeze(own);
        return async () => thaw();
      },
      async () => {
        const health = await pollUntil(() => call('stats', 'GET', '/health'), (o) => o.status === 503);
        expect(health.body).toMatchObject({ error: { database: { status: 'down' } } });
      },
    );
    const summary = await expectNothingLost(run, before);
    // eslint-disable-next-line no-console
    console.log(`frozen: ${run.outcomes.length} requests, ${summary.during} during the outage (${summary.unavailable} answered 503), slowest ${summary.slowest} ms, recovered ${run.recoveredAt - run.resumedAt} ms after thawing, ${summary.hits} hits counted`);
  });

  describe('a usage write whose COMMIT answer is lost', () => {
    let proxy: PgProxy;
    let viaProxy: TestApp;
    let buffered: ExerciseCacheService;
    const context = { type: 'outage_in_doubt', difficulty: 1, topics: ['commit'] };
    const hits = async () =>
      (await sql<{ hits: number }>(own.url, "SELECT coalesce(sum(hits), 0)::int AS hits FROM exercise_cache_lookup_stats WHERE exercise_type = 'outage_in_doubt'"))[0].hits;
    const lookUp = async (times: number) => {
      for (let i = 0; i < times; i++) expect(await buffered.get(context)).toEqual({ q: 1 });
    };

    beforeAll(async () => {
      proxy = await PgProxy.start(own.pg.port);
      const url = new URL(own.url);
      url.port = String(proxy.port);
      viaProxy = await startTestApp(url.toString(), {
        DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        USAGE_FLUSH_INTERVAL_MS: '60000', // flushed only when the test says so (it takes seconds)
        L1_ENABLED: 'false',
      });
      buffered = viaProxy.app.get(ExerciseCacheService);
      await buffered.set(context, { q: 1 });
    });
    afterAll(async () => {
      await viaProxy?.close();
      await proxy?.close();
    });

    it('is not written again when it had committed', async () => {
      await lookUp(3);
      proxy.loseNextCommitAnswer();
      await expect(buffered.flushUsage()).rejects.toThrow(/unknown/);
      expect(proxy.lostCommits).toBe(1);
      expect(await hits()).toBe(3); // the server did commit
      await lookUp(2);
      await buffered.flushUsage();
      expect(await hits()).toBe(5);
    });

    it('is written again when it had rolled back', async () => {
      const before = await hits();
      await sql(own.url, `CREATE FUNCTION outage_fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                          BEGIN RAISE EXCEPTION 'refused at commit'; END $$`);
      await sql(own.url, `CREATE CONSTRAINT TRIGGER outage_fail_commit AFTER INSERT OR UPDATE ON exercise_cache_lookup_stats
                          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION outage_fail_commit()`);
      try {
        await lookUp(4);
        await expect(buffered.flushUsage()).rejects.toThrow(/refused at commit/);
      } finally {
        await sql(own.url, 'DROP TRIGGER outage_fail_commit ON exercise_cache_lookup_stats');
        await sql(own.url, 'DROP FUNCTION outage_fail_commit()');
      }
      expect(await hits()).toBe(before);
      await buffered.flushUsage();
      expect(await hits()).toBe(before + 4);
    });
  });
});
