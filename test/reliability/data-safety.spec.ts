import { TestDatabase, createEmptyDatabase, createTestDatabase } from '../support/test-database';
import { TestApp, startTestApp } from '../support/test-app';
import { listMigrationNames } from '../../src/database/migrations';
import { ServerProcess, startServerProcess } from './support/server-process';
import { pollUntil } from './support/own-postgres';

async function post(server: ServerProcess, path: string, body: unknown): Promise<{ status: number; body: unknown } | { error: string }> {
  try {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } catch (error) {
    return { error: String((error as Error).cause ?? error) };
  }
}

describe('data safety', () => {
  describe('SIGTERM under write load', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('loses no acknowledged write and no counted lookup; the process exits 0', async () => {
      // Counters are flushed only at shutdown here, so the shutdown flush is what is tested.
      const server = await startServerProcess({ DATABASE_URL: db.url, USAGE_FLUSH_INTERVAL_MS: '60000', USAGE_FLUSH_MAX_EVENTS: '1000000', RATE_LIMIT_MAX: '0' });
      const acknowledged: string[] = [];
      let hitsAcknowledged = 0;
      let refused = 0;
      const other: unknown[] = [];
      let stopping = false;
      const seed = await post(server, '/exercise-cache', { context: { type: 'sigterm_hot', difficulty: 1, topics: [] }, exercise: { hot: true } });
      expect(seed).toMatchObject({ status: 201 });

      const writer = async (id: number) => {
        for (let n = 0; ; n++) {
          const result = await post(server, '/exercise-cache', { context: { type: 'sigterm_write', difficulty: 2, topics: [`w${id}-${n}`] }, exercise: { id, n } });
          if ('status' in result && result.status === 201) acknowledged.push((result.body as { key: string }).key);
          else if (stopping && ('error' in result || result.status === 503)) refused += 1;
          else other.push(result);
          // A hit on a second connection, counted in memory until the shutdown flush.
          const hit = await fetch(`${server.url}/exercise-cache?type=sigterm_hot&difficulty=1`, { signal: AbortSignal.timeout(20000) }).then(
            (res) => res.status,
            () => 0,
          );
          if (hit === 200) hitsAcknowledged += 1;
          if (stopping && ('error' in result || result.status === 503)) return;
        }
      };
      const writers = Array.from({ length: 6 }, (_, id) => writer(id));
      await pollUntil(async () => acknowledged.length, (n) => n >= 100);
      stopping = true;
      const exit = await server.stop('SIGTERM');
      await Promise.all(writers);

      expect(exit).toEqual({ code: 0, signal: null });
      expect(other).toEqual([]);
      const { rows } = await db.pool.query<{ cache_key: string }>('SELECT cache_key FROM exercise_cache WHERE cache_key = ANY($1)', [acknowledged]);
      expect(rows.map((r) => r.cache_key).sort()).toEqual([...acknowledged].sort());
      const { rows: stats } = await db.pool.query<{ hits: number }>("SELECT coalesce(sum(hits), 0)::int AS hits FROM exercise_cache_lookup_stats WHERE exercise_type = 'sigterm_hot'");
      expect(stats[0].hits).toBe(hitsAcknowledged);
      expect(server.output()).toContain('shutdown complete');
      // eslint-disable-next-line no-console
      console.log(`SIGTERM: ${acknowledged.length} writes and ${hitsAcknowledged} hits acknowledged, all stored; ${refused} refused while closing`);
    });
  });

  describe('two instances starting at once on an empty database', () => {
    let db: TestDatabase;
    const servers: ServerProcess[] = [];
    beforeAll(async () => {
      db = await createEmptyDatabase();
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop('SIGTERM')));
      await db?.drop();
    });

    it('both come up and every migration is applied and recorded once', async () => {
      const env = { DATABASE_URL: db.url, MIGRATE_ON_START: 'true' };
      servers.push(...(await Promise.all([startServerProcess(env), startServerProcess(env)])));
      for (const server of servers) {
        const ready = await fetch(`${server.url}/health/ready`);
        expect(ready.status).toBe(200);
      }
      const { rows } = await db.pool.query<{ migration_name: string; n: number; finished: number }>(
        `SELECT migration_name, count(*)::int AS n, count(finished_at)::int AS finished
         FROM _prisma_migrations WHERE rolled_back_at IS NULL GROUP BY 1 ORDER BY 1`,
      );
      expect(rows).toEqual((await listMigrationNames()).map((name) => ({ migration_name: name, n: 1, finished: 1 })));
      const logs = servers.map((s) => s.output());
      const appliedBy = logs.filter((log) => log.includes('migrations applied:'));
      const upToDate = logs.filter((log) => log.includes('database is up to date'));
      expect([appliedBy.length, upToDate.length]).toEqual([1, 1]);
      // Both serve reads and writes.
      const stored = await post(servers[0], '/exercise-cache', { context: { type: 'twin_start', difficulty: 1, topics: [] }, exercise: { q: 1 } });
      expect(stored).toMatchObject({ status: 201 });
      expect((await fetch(`${servers[1].url}/exercise-cache?type=twin_start&difficulty=1`)).status).toBe(200);
    });
  });

  describe('expiry', () => {
    let db: TestDatabase;
    let t: TestApp;
    beforeAll(async () => {
      db = await createTestDatabase();
      t = await startTestApp(db.url, { L1_ENABLED: 'true', RATE_LIMIT_MAX: '0' });
    });
    afterAll(async () => {
      await t?.close();
      await db?.drop();
    });

    it('never serves an entry after expires_at, from L1 or the database, by context or by key', async () => {
      const fastify = t.app.getHttpAdapter().getInstance();
      const stored = await fastify.inject({ method: 'POST', url: '/exercise-cache', payload: { context: { type: 'expiry', difficulty: 3, topics: ['soon'] }, exercise: { q: 1 }, ttlSeconds: 1 } });
      expect(stored.statusCode).toBe(201);
      const { key, expiresAt } = stored.json() as { key: string; expiresAt: string };
      const expiry = Date.parse(expiresAt);
      const urls = ['/exercise-cache?type=expiry&difficulty=3&topics=soon', `/exercise-cache/${key}`];
      const served: { url: string; sentAt: number; status: number }[] = [];
      await pollUntil(
        async () => {
          const round = [];
          for (const url of urls) {
            const sentAt = Date.now();
            const res = await fastify.inject({ method: 'GET', url });
            round.push({ url, sentAt, status: res.statusCode });
          }
          served.push(...round);
          return round;
        },
        (round) => round.every((r) => r.status === 404),
        { timeoutMs: 10000, everyMs: 20 },
      );
      // Served while live (the first GET put it in L1), and never once the expiry time had passed.
      expect(served.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
      expect(served.filter((r) => r.status === 200 && r.sentAt >= expiry)).toEqual([]);
      expect(served.every((r) => r.status === 200 || r.status === 404)).toBe(true);
      // Nothing flips back: the row is still there (until cleanup), yet stays unserved.
      expect((await db.pool.query('SELECT 1 FROM exercise_cache WHERE cache_key = $1', [key])).rowCount).toBe(1);
      for (const url of urls) expect((await fastify.inject({ method: 'GET', url })).statusCode).toBe(404);
    });
  });
});
