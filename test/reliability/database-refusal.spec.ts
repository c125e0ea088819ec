import request from 'supertest';
import { adminQuery } from '../support/admin-query';
import { pollUntil } from '../support/poll';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';

/**
 * A database that is up but refuses service: it does not accept connections
 * (ALTER DATABASE ... ALLOW_CONNECTIONS false, SQLSTATE 55000), or it is read-only as a standby
 * after a failover (default_transaction_read_only, 25006). Every route that needs what the
 * database refuses answers 503 `cache storage unavailable`, never a 500; /health says down; the
 * open readiness probe says down without the database's error; the service recovers by itself.
 */

const METRICS_TOKEN = 'metrics-3f9c1e7a5b2d8c4e6a0f1b3d5e7c9a2b';
const UNAVAILABLE = { statusCode: 503, error: 'Service Unavailable', message: 'cache storage unavailable' };
const context = { type: 'refusal', difficulty: 2, topics: ['stored'] };
const lookup = '/exercise-cache?type=refusal&difficulty=2&topics=stored';

describe('a database refusing service', () => {
  let db: TestDatabase;
  let t: TestApp;
  let key: string;
  const server = () => t.app.getHttpServer();
  const admin = (sql: string) => adminQuery(process.env.TEST_ADMIN_URL!, sql);
  /** Ends the service's sessions so that the next ones meet the new database settings. */
  const endSessions = () =>
    admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}' AND pid <> pg_backend_pid()`);

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url, {
      METRICS_TOKEN,
      USAGE_FLUSH_INTERVAL_MS: '60000', // flushed when a statistics route asks
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      HEALTH_DB_TIMEOUT_MS: '2000',
    });
    key = (await request(server()).post('/exercise-cache').send({ context, exercise: { q: 1 } }).expect(201)).body.key;
  });
  afterAll(async () => {
    await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await t?.close();
    await db?.drop();
  });

  const health = (path: string, token?: string) => {
    const call = request(server()).get(path);
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  };

  async function expectRecovered(): Promise<void> {
    await pollUntil(() => health('/health/ready'), (res) => res.status === 200);
    await request(server()).get(lookup).expect(200);
    await request(server()).get('/exercise-cache/stats').expect(200);
    await health('/health', METRICS_TOKEN).expect(200);
  }

  it('that accepts no connections (55000): every route answers 503, /health and /health/ready are down', async () => {
    await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    try {
      await endSessions();
      const routes: [string, string, unknown?][] = [
        ['GET', lookup],
        ['GET', `/exercise-cache/${key}`],
        ['GET', '/exercise-cache/near?type=refusal&difficulty=2&topics=stored'],
        ['POST', '/exercise-cache', { context: { ...context, topics: ['new'] }, exercise: { q: 2 } }],
        ['POST', '/exercise-cache', { context: { ...context, topics: ['many'] }, exercise: { q: 3 }, variants: 3 }],
        ['DELETE', `/exercise-cache/${key}`],
        ['DELETE', '/exercise-cache?type=refusal&difficulty=2&topics=stored'],
        ['GET', '/exercise-cache/stats'],
        ['GET', '/exercise-cache/stats/types'],
        ['GET', '/exercise-cache/popular'],
        ['GET', '/exercise-cache/lru'],
        ['GET', '/exercise-cache/metrics/daily'],
        ['GET', '/dashboard/data'],
        ['GET', '/exercise-cache/maintenance/runs'],
        ['POST', '/exercise-cache/maintenance/cleanup'],
        ['POST', '/exercise-cache/maintenance/evict'],
        ['POST', '/exercise-cache/maintenance/refresh'],
      ];
      const answers: { route: string; status: number; body: unknown }[] = [];
      for (const [method, path, body] of routes) {
        const call = method === 'GET' ? request(server()).get(path) : method === 'POST' ? request(server()).post(path) : request(server()).delete(path);
        const res = body === undefined ? await call : await call.send(body as object);
        answers.push({ route: `${method} ${path}`, status: res.status, body: res.body });
      }
      expect(answers).toEqual(routes.map(([method, path]) => ({ route: `${method} ${path}`, status: 503, body: UNAVAILABLE })));

      const full = await health('/health', METRICS_TOKEN).expect(503);
      expect(full.body.error.database).toMatchObject({ status: 'down', message: expect.stringMatching(/not currently accepting connections/) });
      const ready = await health('/health/ready').expect(503);
      expect(ready.body).toEqual({ status: 'error', info: {}, error: { database: { status: 'down' } }, details: { database: { status: 'down' } } });
      expect(JSON.stringify(ready.body)).not.toContain(db.name);
      // With the token, the probe says why.
      const detailed = await health('/health/ready', METRICS_TOKEN).expect(503);
      expect(detailed.body.error.database.message).toContain(db.name);
      await health('/health/live').expect(200);
    } finally {
      await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    }
    await expectRecovered();
  });

  it('that is read-only (25006): writes and flushes answer 503, reads still work, /health is down', async () => {
    await admin(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
    try {
      await endSessions();
      // Reads are served (and counted in memory)...
      await pollUntil(() => request(server()).get(lookup), (res) => res.status === 200);
      await request(server()).get('/exercise-cache?type=refusal&difficulty=2&topics=absent').expect(404);
      // ...writes are refused with the 503, through pg (POST) and through Prisma (DELETE).
      const writes = [
        await request(server()).post('/exercise-cache').send({ context: { ...context, topics: ['new'] }, exercise: { q: 2 } }),
        await request(server()).post('/exercise-cache').send({ context: { ...context, topics: ['many'] }, exercise: { q: 3 }, variants: 3 }),
        await request(server()).delete(`/exercise-cache/${key}`),
        await request(server()).delete('/exercise-cache?type=refusal&difficulty=2&topics=stored'),
        // Statistics first write the buffered lookups, which a read-only database refuses.
        await request(server()).get('/exercise-cache/stats'),
        await request(server()).get('/dashboard/data'),
        await request(server()).post('/exercise-cache/maintenance/cleanup'),
      ];
      expect(writes.map((res) => ({ status: res.status, body: res.body }))).toEqual(writes.map(() => ({ status: 503, body: UNAVAILABLE })));

      const full = await health('/health', METRICS_TOKEN).expect(503);
      expect(full.body.error.database).toMatchObject({ status: 'down', message: expect.stringMatching(/cannot take writes/) });
      const ready = await health('/health/ready').expect(503);
      expect(ready.body.error).toEqual({ database: { status: 'down' } });
    } finally {
      await admin(`ALTER DATABASE ${db.name} RESET default_transaction_read_only`);
      await endSessions();
    }
    await expectRecovered();
    // The lookups served while read-only were kept and are counted now.
    const { rows } = await db.pool.query("SELECT sum(hits)::int AS hits FROM exercise_cache_lookup_stats WHERE exercise_type = 'refusal'");
    expect(rows[0].hits).toBeGreaterThanOrEqual(1);
  });
});
