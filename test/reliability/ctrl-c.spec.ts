import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../support/free-port';
import { pollUntil } from '../support/poll';
import { enterableTempDir, isAlive } from '../support/processes';
import { ServerProcess, startServerProcess } from './support/server-process';

/**
 * Ctrl-C in a terminal sends SIGINT to the whole foreground process group: the service and, were
 * it in that group, its embedded PostgreSQL. The database must stay up until the service has
 * written its buffered counters, then be stopped by the service. Signalled here exactly as a
 * terminal does it: process.kill(-pid) on the group of `node dist/main.js` started on the
 * embedded default (its own port and data folder).
 */
describe('Ctrl-C on the embedded default (SIGINT to the process group)', () => {
  const temp = enterableTempDir();
  let port: number;
  let server: ServerProcess | undefined;
  const context = { type: 'ctrl_c', difficulty: 2, topics: ['kept'] };
  const lookup = '/exercise-cache?type=ctrl_c&difficulty=2&topics=kept';

  const start = () =>
    startServerProcess(
      {
        EMBEDDED_PG_PORT: String(port),
        EMBEDDED_PG_DIR: `${temp.dir}/pg`,
        MIGRATE_ON_START: 'true',
        RATE_LIMIT_MAX: '0',
        // Counters stay buffered until shutdown.
        USAGE_FLUSH_INTERVAL_MS: '60000',
        USAGE_FLUSH_MAX_EVENTS: '1000000',
      },
      { ownProcessGroup: true },
    );

  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) process.kill(-server.child.pid!, 'SIGKILL');
    // After a failed run, the PostgreSQL in its own session may outlive the service: stop it.
    const pidFile = path.join(temp.dir, 'pg', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (isAlive(pid)) {
        process.kill(pid, 'SIGINT');
        await pollUntil(async () => isAlive(pid), (alive) => !alive, { timeoutMs: 30000 });
      }
    }
    temp.remove();
  });

  async function counted(): Promise<{ hits: number; misses: number; usage: number }> {
    const client = new Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/exercise_cache` });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT (SELECT coalesce(sum(hits), 0)::int FROM exercise_cache_lookup_stats) AS hits,
                (SELECT coalesce(sum(misses), 0)::int FROM exercise_cache_lookup_stats) AS misses,
                (SELECT coalesce(sum(usage_count), 0)::int FROM exercise_cache) AS usage`,
      );
      return rows[0];
    } finally {
      await client.end();
    }
  }

  it('flushes every buffered counter before the embedded PostgreSQL stops, and exits 0', async () => {
    server = await start();
    const post = await fetch(`${server.url}/exercise-cache`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ context, exercise: { q: 1 } }),
    });
    expect(post.status).toBe(201);
    const HITS = 25;
    const MISSES = 7;
    for (let i = 0; i < HITS; i++) expect((await fetch(`${server.url}${lookup}`)).status).toBe(200);
    for (let i = 0; i < MISSES; i++) expect((await fetch(`${server.url}/exercise-cache?type=ctrl_c&difficulty=2&topics=m${i}`)).status).toBe(404);
    expect(await counted()).toEqual({ hits: 0, misses: 0, usage: 0 }); // all still buffered

    process.kill(-server.child.pid!, 'SIGINT');
    const exit = await server.exited;
    expect({ exit, lost: server.output().match(/could not write|shutting down|shutdown task failed/gi) }).toEqual({
      exit: { code: 0, signal: null },
      lost: null,
    });

    // Started again on the same data: everything counted before Ctrl-C is there.
    server = await start();
    expect(await counted()).toEqual({ hits: HITS, misses: MISSES, usage: HITS });
    const stats = await pollUntil(
      () => fetch(`${server!.url}/exercise-cache/stats`).then((res) => res.json() as Promise<{ totalHits: number; totalMisses: number }>),
      (body) => body.totalHits !== undefined,
    );
    expect({ hits: stats.totalHits, misses: stats.totalMisses }).toEqual({ hits: HITS, misses: MISSES });
    await server.stop('SIGTERM');
  }, 180000);
});
