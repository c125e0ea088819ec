import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { createExerciseCacheClient } from '../../src/client';
import { ServerProcess, startServerProcess } from '../reliability/support/server-process';
import { pollUntil } from '../support/poll';
import { TestDatabase, createTestDatabase } from '../support/test-database';

const WORKER = path.join(__dirname, 'support', 'client-worker.js');

interface WorkerOutput {
  name: string;
  generations: { topic: string; id: string }[];
  results: { topic: string; exercise?: { id: string; topic: string }; error?: string }[];
  warnings: string[];
}

interface Worker {
  child: ChildProcess;
  output(): string;
  done: Promise<WorkerOutput>;
  /** Standby workers only: starts its calls. */
  go(): void;
}

/** An application process using exercise-cache/client from dist/ (see support/client-worker.js). */
function startWorker(options: Record<string, unknown>): Worker {
  const child = spawn(process.execPath, [WORKER, JSON.stringify(options)], { stdio: [options.standby ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<WorkerOutput>((resolve, reject) =>
    child.once('exit', (code, signal) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as WorkerOutput);
      else reject(new Error(`worker ${String(options.name)} exited with ${code ?? signal}:\n${stdout}\n${stderr}`));
    }),
  );
  return { child, output: () => stdout, done, go: () => child.stdin!.end('go\n') };
}

/** What the workers' clients allow one HTTP call (timeoutMs in support/client-worker.js). */
const CLIENT_TIMEOUT_MS = 10000;

/** Two service replicas (node dist/main.js) on one database; application processes use the client. */
describe('leases across replicas and client processes', () => {
  let db: TestDatabase;
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // 150 concurrent calls queue for each replica's pool; on a loaded machine that queue can outlast
    // the default connect timeout (which also bounds the wait for a pooled connection), and each
    // 503 sends a caller to generate without the cache. Servers here give the database as long as
    // the clients give the servers, so only a client's own timeout can end a call.
    const env = { DATABASE_URL: db.url, DATABASE_CONNECT_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS) };
    servers = await Promise.all([0, 1].map(() => startServerProcess(env)));
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await db?.drop();
  });

  const storedExercise = async (type: string, topic: string) =>
    (await db.pool.query('SELECT exercise_data FROM exercise_cache WHERE cache_key = $1', [cacheKeyFor({ type, difficulty: 2, topics: [topic] })])).rows[0]
      ?.exercise_data;
  const leaseMetric = async (server: ServerProcess, outcome: string) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(text.split('\n').find((line) => line.startsWith(`exercise_cache_leases_total{outcome="${outcome}"}`))?.split(' ')[1]);
  };

  it('three client processes x 50 concurrent getOrGenerate on 10 contexts generate exactly 10 times; every caller gets its context\'s stored exercise', async () => {
    const type = 'lease_processes';
    const urls = servers.map((server) => server.url);
    const workers = ['app-a', 'app-b', 'app-c'].map((name, i) =>
      startWorker({ name, type, urls: i === 1 ? [...urls].reverse() : urls, contexts: 10, callers: 50, generateMs: 300, leaseSeconds: 30, waitMs: 10000 }),
    );
    const outputs = await Promise.all(workers.map((worker) => worker.done));
    // First, as it names the cause of any extra generation (a 503, a timeout).
    expect(outputs.flatMap((output) => output.warnings)).toEqual([]);

    const generations = outputs.flatMap((output) => output.generations);
    expect(generations.map((g) => g.topic).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `topic-${i}`).sort());
    const results = outputs.flatMap((output) => output.results);
    expect(results).toHaveLength(150);
    expect(results.filter((result) => result.error)).toEqual([]);
    for (let i = 0; i < 10; i++) {
      const topic = `topic-${i}`;
      const stored = await storedExercise(type, topic);
      expect(stored).toEqual({ id: generations.find((g) => g.topic === topic)!.id, topic });
      expect(results.filter((result) => result.topic === topic).map((result) => result.exercise)).toEqual(Array(15).fill(stored));
    }
    // Both replicas served waiters: the coalescing crossed replicas through LISTEN/NOTIFY.
    for (const server of servers) expect(await leaseMetric(server, 'coalesced')).toBeGreaterThan(0);
  });

  it('a holder killed mid-generation is replaced after its lease: a waiting caller on the other replica generates once', async () => {
    const type = 'lease_killed';
    // The successor must reach replica B while the holder's lease still runs. It is started ahead
    // (a node process can take seconds to start on a loaded machine), and the lease lasts a
    // multiple of how long that start took: how slow the machine is right now.
    const spawnedAt = Date.now();
    const successor = startWorker({ name: 'successor', standby: true, type, urls: [servers[1].url], contexts: 1, callers: 1, generateMs: 10, leaseSeconds: 30, waitMs: 30000 });
    await pollUntil(async () => successor.output(), (out) => out.includes('READY'), { what: 'the successor to load', timeoutMs: 30000 });
    const leaseSeconds = Math.max(2, Math.ceil((4 * (Date.now() - spawnedAt)) / 1000));
    const holder = startWorker({ name: 'doomed', mode: 'hang', type, urls: [servers[0].url], contexts: 1, callers: 1, leaseSeconds, waitMs: 10000 });
    holder.done.catch(() => undefined);
    await pollUntil(async () => holder.output(), (out) => out.includes('GENERATING topic-0'), { timeoutMs: 30000 });
    holder.child.kill('SIGKILL');
    const waitedBefore = await leaseMetric(servers[1], 'waited');
    successor.go();
    const output = await successor.done;
    expect(await leaseMetric(servers[1], 'waited')).toBeGreaterThan(waitedBefore);
    expect(output.generations).toHaveLength(1);
    expect(output.results[0].exercise).toEqual(await storedExercise(type, 'topic-0'));
    expect(output.results[0].exercise!.id).toBe(output.generations[0].id);
  }, 120000);

  it('a client against a stopped service still generates and returns, and tells its logger', async () => {
    const stopped = servers.pop()!;
    await stopped.stop();
    const warnings: string[] = [];
    const client = createExerciseCacheClient({ baseUrl: stopped.url, retries: 1, logger: { warn: (message) => warnings.push(message) } });
    let calls = 0;
    const exercise = await client.getOrGenerate({ type: 'lease_degraded', difficulty: 1, topics: ['a'] }, async (context) => {
      calls += 1;
      return { made: 'locally', type: context.type };
    });
    expect(exercise).toEqual({ made: 'locally', type: 'lease_degraded' });
    expect(calls).toBe(1);
    expect(warnings).toEqual([expect.stringContaining('exercise-cache unavailable, generating without it')]);
    await expect(client.get({ type: 'lease_degraded', difficulty: 1, topics: ['a'] })).rejects.toMatchObject({ name: 'ExerciseCacheUnavailableError' });
  });
});
