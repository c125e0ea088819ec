import { Client } from 'pg';
import { pollUntil } from '../support/poll';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { ServerProcess, startServerProcess } from './support/server-process';

/**
 * PostgreSQL ends sessions in production all the time (pg_terminate_backend, idle timeouts, a
 * failover, a pooler restart). Here every backend of the service is terminated every 0.2-0.5 s
 * for 20 s while workers send lookups, POSTs with variants (a transaction under a context lock),
 * maintenance runs (a session advisory lock) and statistics reads (a usage flush each) to the
 * shipped server process. The process must stay up, answer nothing but its normal statuses or
 * the 503, recover by itself, and have counted every acknowledged lookup exactly once.
 */

const STORM_MS = 20000;
const WORKERS = 6;
const UNAVAILABLE = { statusCode: 503, error: 'Service Unavailable', message: 'cache storage unavailable' };

type Op = 'hot' | 'miss' | 'post' | 'maintenance' | 'stats';
/** What each operation may answer: its normal statuses, or the 503. */
const ALLOWED: Record<Op, number[]> = {
  hot: [200, 503],
  miss: [404, 503],
  post: [201, 503],
  // 409: the same job is running for another worker's request.
  maintenance: [200, 409, 503],
  stats: [200, 503],
};
const JOBS = ['cleanup', 'evict', 'refresh'] as const;

interface Outcome {
  op: Op;
  status: number;
  body: unknown;
  key?: string;
}

/** Delays between terminations: fixed, so every run sees the same rhythm (0.2 to 0.5 s). */
const terminationDelay = (i: number) => 200 + ((i * 137) % 301);

describe('PostgreSQL ending the service sessions under load (node dist/main.js)', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  const hot = [1, 2, 3, 4].map((difficulty) => `type=term_hot&difficulty=${difficulty}&topics=warm`);

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServerProcess({
      DATABASE_URL: db.url,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '0',
      L1_ENABLED: 'true',
      USAGE_FLUSH_INTERVAL_MS: '50',
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      MAX_ENTRIES: '100000',
    }, { waitForListen: false });
    // At LOG_LEVEL warn the "listening" line is not printed: wait for the liveness probe instead.
    await pollUntil(() => fetch(`${server.url}/health/live`).then((res) => res.status, () => 0), (status) => status === 200, { timeoutMs: 60000 });
    for (let i = 0; i < hot.length; i++) {
      expect((await call('post', 'POST', '/exercise-cache', { context: context(i), exercise: { hot: i } })).status).toBe(201);
    }
  }, 120000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await db?.drop();
  });

  const context = (i: number) => ({ type: 'term_hot', difficulty: i + 1, topics: ['warm'] });

  async function call(op: Op, method: string, path: string, body?: unknown): Promise<Outcome> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30000),
    });
    const text = await res.text();
    return { op, status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function sql<T>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it('stays up, answers 503 at worst, recovers, and counts every acknowledged lookup once', async () => {
    const outcomes: Outcome[] = [];
    const failures: string[] = [];
    let running = true;
    let sequence = 0;
    const worker = async (id: number) => {
      while (running) {
        const n = sequence++;
        const op = (['hot', 'post', 'miss', 'stats', 'hot', 'maintenance'] as Op[])[n % 6];
        try {
          if (op === 'hot') outcomes.push(await call(op, 'GET', `/exercise-cache?${hot[n % hot.length]}`));
          else if (op === 'miss') outcomes.push(await call(op, 'GET', `/exercise-cache?type=term_miss&difficulty=2&topics=m${n}`));
          else if (op === 'stats') outcomes.push(await call(op, 'GET', '/exercise-cache/stats'));
          else if (op === 'maintenance') outcomes.push(await call(op, 'POST', `/exercise-cache/maintenance/${JOBS[n % JOBS.length]}`));
          else {
            const outcome = await call(op, 'POST', '/exercise-cache', {
              context: { type: 'term_write', difficulty: 3, topics: [`w${n % 40}`] },
              exercise: { worker: id, n },
              variants: 3,
            });
            if (outcome.status === 201) outcome.key = (outcome.body as { key: string }).key;
            outcomes.push(outcome);
          }
        } catch (error) {
          // The process died or dropped the connection: exactly what must not happen.
          failures.push(`${op}: ${(error as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, id) => worker(id));

    let terminated = 0;
    const terminator = new Client({ connectionString: db.url.replace(/\/[^/]+$/, '/postgres') });
    await terminator.connect();
    try {
      await pollUntil(async () => outcomes.length, (count) => count >= 30);
      const stormEnds = Date.now() + STORM_MS;
      for (let i = 0; Date.now() < stormEnds; i++) {
        const { rows } = await terminator.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
          [db.name],
        );
        terminated += rows[0].n;
        await new Promise((resolve) => setTimeout(resolve, terminationDelay(i)));
      }
    } finally {
      running = false;
      await Promise.all(workers);
      await terminator.end();
    }

    // The process is up and serving.
    const exitCode = server.child.exitCode;
    expect({ exitCode, lastOutput: exitCode === null ? '' : server.output().slice(-4000) }).toEqual({ exitCode: null, lastOutput: '' });
    expect(failures).toEqual([]);
    expect((await call('stats', 'GET', '/health/live')).status).toBe(200);
    // Nothing but the normal answers and the 503.
    const unexpected = outcomes.filter((o) => !ALLOWED[o.op].includes(o.status)).map((o) => ({ op: o.op, status: o.status, body: o.body }));
    expect(unexpected).toEqual([]);
    for (const o of outcomes.filter((o) => o.status === 503)) expect(o.body).toEqual(UNAVAILABLE);
    expect(server.output()).not.toMatch(/uncaught|unhandled/i);

    // It recovers without a restart: every maintenance job runs again, and /health is 200.
    for (const job of JOBS) {
      await pollUntil(() => call('maintenance', 'POST', `/exercise-cache/maintenance/${job}`), (o) => o.status === 200);
    }
    await pollUntil(() => call('stats', 'GET', '/health'), (o) => o.status === 200);

    // Every acknowledged write is stored; every acknowledged hit and miss is counted exactly once.
    await pollUntil(() => call('stats', 'GET', '/exercise-cache/stats'), (o) => o.status === 200); // flushes
    const written = outcomes.filter((o) => o.op === 'post' && o.status === 201).map((o) => o.key!);
    const stored = await sql<{ cache_key: string }>('SELECT cache_key FROM exercise_cache WHERE cache_key = ANY($1)', [written]);
    expect(new Set(stored.map((r) => r.cache_key))).toEqual(new Set(written));
    const hits = outcomes.filter((o) => o.op === 'hot' && o.status === 200).length;
    // Only the misses' type has misses (counted under the bucket for types without entries).
    const misses = outcomes.filter((o) => o.op === 'miss' && o.status === 404).length;
    const [counted] = await sql<{ hits: number; misses: number; usage: number }>(
      `SELECT (SELECT coalesce(sum(hits), 0)::int FROM exercise_cache_lookup_stats WHERE exercise_type = 'term_hot') AS hits,
              (SELECT coalesce(sum(misses), 0)::int FROM exercise_cache_lookup_stats) AS misses,
              (SELECT coalesce(sum(usage_count), 0)::int FROM exercise_cache WHERE exercise_type = 'term_hot') AS usage`,
    );
    expect(counted).toEqual({ hits, misses, usage: hits });

    const count = (op: Op, status: number) => outcomes.filter((o) => o.op === op && o.status === status).length;
    // The storm reached every kind of request (otherwise this test would prove nothing).
    expect(terminated).toBeGreaterThan(40);
    for (const op of ['hot', 'post', 'stats', 'maintenance'] as Op[]) expect({ op, served: count(op, ALLOWED[op][0]) > 0 }).toEqual({ op, served: true });
    // eslint-disable-next-line no-console
    console.log(
      `${terminated} backends terminated over ${STORM_MS / 1000} s; ${outcomes.length} requests, ` +
        `${outcomes.filter((o) => o.status === 503).length} answered 503; ${hits} hits, ${misses} misses, ${written.length} stores counted`,
    );
  }, 180000);
});
