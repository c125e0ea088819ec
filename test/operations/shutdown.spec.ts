import { ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { freePort } from '../support/free-port';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { DIST_MAIN, PROJECT_ROOT, ensureBuilt } from '../support/processes';
import { pollUntil } from '../support/poll';

interface Outcome {
  kind: 'hit' | 'miss' | 'store';
  topic: string;
  status?: number;
  key?: string;
  error?: string;
}

const SEEDED = 10;
const WORKERS = 16;
const SIGTERM_AFTER = 400; // responses
const MAX_REQUESTS = 20000;

describe('SIGTERM under load (node dist/main.js)', () => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let port: number;
  let stderr = '';
  const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });

  beforeAll(async () => {
    await ensureBuilt();
    db = await createTestDatabase();
  }, 180000);
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    agent.destroy();
    await db?.drop();
  });

  function send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        { host: '127.0.0.1', port, method, path, agent, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  const context = (topic: string) => ({ type: 'shutdown_fill', difficulty: 2, topics: [topic] });
  const lookupPath = (topic: string) => `/exercise-cache?type=shutdown_fill&difficulty=2&topics=${topic}`;

  it('stops accepting, finishes in-flight requests, flushes buffered counters and exits 0 within 10 s', async () => {
    port = await freePort();
    child = spawn(process.execPath, [DIST_MAIN], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        MIGRATE_ON_START: 'false',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_PRETTY: 'false',
        LOG_LEVEL: 'warn',
        USAGE_FLUSH_INTERVAL_MS: '60000', // counters stay buffered until shutdown
        USAGE_FLUSH_MAX_EVENTS: '1000000',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    await pollUntil(
      () => send('GET', '/health/ready').then((r) => r.status, () => 0),
      (status) => status === 200,
      { timeoutMs: 30000 },
    );

    const seeded = Array.from({ length: SEEDED }, (_, i) => `seeded${i}`);
    for (const topic of seeded) {
      expect((await send('POST', '/exercise-cache', { context: context(topic), exercise: { topic } })).status).toBe(201);
    }

    const outcomes: Outcome[] = [];
    let responses = 0;
    let sigtermAt = 0;
    let sequence = 0;
    const worker = async (id: number) => {
      for (;;) {
        if (sequence >= MAX_REQUESTS) return;
        const n = sequence++;
        const pick = n % 10;
        const outcome: Outcome =
          pick < 6
            ? { kind: 'hit', topic: seeded[n % SEEDED] }
            : pick < 8
              ? { kind: 'miss', topic: `missing${n}` }
              : { kind: 'store', topic: `stored_${id}_${n}` };
        outcomes.push(outcome);
        try {
          const res =
            outcome.kind === 'store'
              ? await send('POST', '/exercise-cache', { context: context(outcome.topic), exercise: { n } })
              : await send('GET', lookupPath(outcome.topic));
          outcome.status = res.status;
          if (res.status === 201) outcome.key = JSON.parse(res.body).key;
          if (++responses === SIGTERM_AFTER) {
            sigtermAt = Date.now();
            child!.kill('SIGTERM');
          }
        } catch (error) {
          outcome.error = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
          return; // the server is gone for this client
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, id) => worker(id)));
    const exit = await exited;

    expect(sigtermAt).toBeGreaterThan(0);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - sigtermAt).toBeLessThan(10000);
    expect(stderr).toBe('');

    const answered = outcomes.filter((o) => o.status !== undefined);
    const afterSigterm = answered.length - SIGTERM_AFTER;
    // Every answer is a real one (no 503 while draining) ...
    expect(answered.filter((o) => ![200, 201, 404].includes(o.status!))).toEqual([]);
    expect(answered.filter((o) => (o.kind === 'hit' ? o.status !== 200 : o.kind === 'miss' ? o.status !== 404 : o.status !== 201))).toEqual([]);
    // ... and the only failures are connections refused after the listener closed: no request
    // that reached the server was dropped or reset.
    const failed = outcomes.filter((o) => o.error !== undefined);
    expect(failed.filter((o) => o.error !== 'ECONNREFUSED')).toEqual([]);
    expect(failed.length).toBeGreaterThan(0); // the load did outlive the server

    // Every acknowledged write is stored.
    const stored = answered.filter((o) => o.kind === 'store').map((o) => o.key!);
    const { rows: present } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM exercise_cache WHERE cache_key = ANY($1)', [stored]);
    expect(present[0].n).toBe(stored.length);

    // The buffered usage and lookup counters were written at shutdown: they match the answers.
    const hits = answered.filter((o) => o.kind === 'hit').length;
    const misses = answered.filter((o) => o.kind === 'miss').length;
    const { rows: usage } = await db.pool.query<{ uses: number }>(
      `SELECT coalesce(sum(usage_count), 0)::int AS uses FROM exercise_cache WHERE topics <@ $1::text[]`,
      [seeded],
    );
    const { rows: lookups } = await db.pool.query<{ hits: number; misses: number }>(
      `SELECT coalesce(sum(hits), 0)::int AS hits, coalesce(sum(misses), 0)::int AS misses FROM exercise_cache_lookup_stats WHERE exercise_type = 'shutdown_fill'`,
    );
    expect({ uses: usage[0].uses, hits: lookups[0].hits, misses: lookups[0].misses }).toEqual({ uses: hits, hits, misses });
    // Requests were still being answered after SIGTERM: the drain was really exercised.
    expect(afterSigterm).toBeGreaterThan(0);
  });
});
