import request from 'supertest';
import { expired, insertExercises } from '../support/seed';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { sampleValue } from './prometheus-text';

describe('GET /health', () => {
  let db: TestDatabase;
  let t: TestApp;
  const server = () => t.app.getHttpServer();

  beforeAll(async () => {
    db = await createTestDatabase();
    // Limit: 10 + 20% = 12 active entries.
    t = await startTestApp(db.url, { MAX_ENTRIES: '10', HEALTH_SIZE_TOLERANCE_PERCENT: '20' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });
  beforeEach(() => db.pool.query('TRUNCATE exercise_cache, exercise_cache_maintenance_runs'));

  it('answers 200 with the details of every check when healthy', async () => {
    await insertExercises(db.pool, [{}, {}, expired()]);
    const res = await request(server()).get('/health').expect(200);
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.body).toEqual({
      status: 'ok',
      info: res.body.details,
      error: {},
      details: {
        database: { status: 'up', responseTime: expect.any(Number) },
        migrations: { status: 'up', pending: 0, responseTime: expect.any(Number) },
        cache_size: { status: 'up', activeEntries: 2, limit: 12, responseTime: expect.any(Number) },
        maintenance: {
          status: 'up',
          cleanup: { lastRun: 'never' },
          evict: { lastRun: 'never' },
          refresh: { lastRun: 'never' },
          responseTime: expect.any(Number),
        },
      },
    });
  });

  it('answers /health/live and /health/ready', async () => {
    const live = await request(server()).get('/health/live').expect(200);
    expect(live.body.details.process).toEqual({ status: 'up', pid: process.pid, uptimeSeconds: expect.any(Number) });
    const ready = await request(server()).get('/health/ready').expect(200);
    expect(Object.keys(ready.body.details)).toEqual(['database']);
  });

  describe('cache size', () => {
    it('stays healthy up to MAX_ENTRIES plus the tolerance, counting active entries only', async () => {
      await insertExercises(db.pool, [...Array.from({ length: 12 }, () => ({})), expired(), expired()]);
      const res = await request(server()).get('/health').expect(200);
      expect(res.body.details.cache_size).toMatchObject({ status: 'up', activeEntries: 12, limit: 12 });
    });

    it('answers 503 naming the size check when active entries exceed it', async () => {
      await insertExercises(db.pool, Array.from({ length: 13 }, () => ({})));
      const res = await request(server()).get('/health').expect(503);
      expect(res.body.status).toBe('error');
      expect(Object.keys(res.body.error)).toEqual(['cache_size']);
      expect(res.body.error.cache_size).toMatchObject({
        status: 'down',
        message: '13 active entries exceed 12 (MAX_ENTRIES 10 + 20%)',
      });
      expect(res.body.details.database.status).toBe('up');
      // Readiness is about the database only.
      await request(server()).get('/health/ready').expect(200);
    });
  });

  describe('maintenance jobs', () => {
    it('answers 503 naming the job whose last run failed, until it succeeds again', async () => {
      // A real failure: the evict function is missing, so the run fails and is recorded as failed.
      await db.pool.query('ALTER FUNCTION evict_lru_exercises(integer) RENAME TO evict_lru_exercises_moved');
      try {
        await request(server()).post('/exercise-cache/maintenance/evict').expect(500);
      } finally {
        await db.pool.query('ALTER FUNCTION evict_lru_exercises_moved(integer) RENAME TO evict_lru_exercises');
      }
      await request(server()).post('/exercise-cache/maintenance/cleanup').expect(200);

      const res = await request(server()).get('/health').expect(503);
      expect(Object.keys(res.body.error)).toEqual(['maintenance']);
      expect(res.body.error.maintenance.message).toMatch(/^last evict run failed at \S+ on \S+: .*evict_lru_exercises/);
      const metrics = (await request(server()).get('/metrics').expect(200)).text;
      expect(sampleValue(metrics, 'exercise_cache_maintenance_failures_total', { job: 'evict' })).toBe(1);

      // A skip says nothing about the job: still unhealthy.
      await db.pool.query(
        `INSERT INTO exercise_cache_maintenance_runs (job, status, instance, trigger, error) VALUES ('evict', 'skipped', 'other', 'scheduled', 'another instance holds its lock')`,
      );
      await request(server()).get('/health').expect(503);

      await request(server()).post('/exercise-cache/maintenance/evict').expect(200);
      const healthy = await request(server()).get('/health').expect(200);
      expect(healthy.body.details.maintenance).toMatchObject({ evict: { lastRun: 'ok' }, cleanup: { lastRun: 'ok' }, refresh: { lastRun: 'never' } });
    });

    it('looks at runs of every replica', async () => {
      await db.pool.query(
        `INSERT INTO exercise_cache_maintenance_runs (job, status, instance, trigger, error, finished_at)
         VALUES ('refresh', 'failed', 'replica-b', 'scheduled', 'disk full', now())`,
      );
      const res = await request(server()).get('/health').expect(503);
      expect(res.body.error.maintenance.message).toMatch(/^last refresh run failed at \S+ on replica-b: disk full$/);
    });
  });

  describe('migrations', () => {
    it('answers 503 naming the pending migration', async () => {
      const { rows } = await db.pool.query(
        `DELETE FROM _prisma_migrations WHERE migration_name = (SELECT max(migration_name) FROM _prisma_migrations) RETURNING *`,
      );
      try {
        const res = await request(server()).get('/health').expect(503);
        expect(Object.keys(res.body.error)).toEqual(['migrations']);
        expect(res.body.error.migrations.message).toBe(`pending migrations: ${rows[0].migration_name} (run npm run db:migrate)`);
      } finally {
        const columns = Object.keys(rows[0]);
        await db.pool.query(
          `INSERT INTO _prisma_migrations (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
          columns.map((c) => rows[0][c]),
        );
      }
      await request(server()).get('/health').expect(200);
    });
  });
});
