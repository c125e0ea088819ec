import { Client } from 'pg';
import request from 'supertest';
import { MAINTENANCE_LOCK_IDS, MAINTENANCE_LOCK_SPACE } from '../../src/maintenance/maintenance.repository';
import { expired, insertExercises } from '../support/seed';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';

describe('maintenance endpoints', () => {
  let db: TestDatabase;
  let t: TestApp;
  const server = () => t.app.getHttpServer();

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });
  beforeEach(() => db.pool.query('TRUNCATE exercise_cache, exercise_cache_lookup_stats, exercise_cache_maintenance_runs'));

  describe('POST /exercise-cache/maintenance/cleanup', () => {
    it('removes expired entries and answers {job, affected, durationMs}', async () => {
      await insertExercises(db.pool, [expired(), expired(), {}]);
      const res = await request(server()).post('/exercise-cache/maintenance/cleanup').expect(200);
      expect(res.body).toEqual({ job: 'cleanup', affected: 2, durationMs: expect.any(Number) });
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache');
      expect(rows[0].n).toBe(1);
    });

    it('records the run as manual and ok', async () => {
      await request(server()).post('/exercise-cache/maintenance/cleanup').expect(200);
      const { rows } = await db.pool.query('SELECT job, status, affected, trigger, instance, finished_at >= started_at AS ordered FROM exercise_cache_maintenance_runs');
      expect(rows).toEqual([{ job: 'cleanup', status: 'ok', affected: 0, trigger: 'manual', instance: expect.any(String), ordered: true }]);
    });
  });

  describe('POST /exercise-cache/maintenance/evict', () => {
    it('evicts down to maxEntries from the body', async () => {
      await insertExercises(db.pool, [{}, {}, {}, {}, {}]);
      const res = await request(server()).post('/exercise-cache/maintenance/evict').send({ maxEntries: 2 }).expect(200);
      expect(res.body).toEqual({ job: 'evict', affected: 3, durationMs: expect.any(Number) });
    });

    it('takes maxEntries from the query string too', async () => {
      await insertExercises(db.pool, [{}, {}, {}]);
      const res = await request(server()).post('/exercise-cache/maintenance/evict?maxEntries=0').expect(200);
      expect(res.body.affected).toBe(3);
    });

    it('defaults to MAX_ENTRIES', async () => {
      await insertExercises(db.pool, [{}, {}]);
      const res = await request(server()).post('/exercise-cache/maintenance/evict').expect(200);
      expect(res.body.affected).toBe(0); // 2 entries, MAX_ENTRIES 10000
    });

    it.each([
      ['body', { maxEntries: -1 }, ''],
      ['body', { maxEntries: 1.5 }, ''],
      ['body', { maxEntries: '10' }, ''],
      ['body', { maxEntries: 100_000_001 }, ''],
      ['query', undefined, '?maxEntries=abc'],
    ])('rejects an invalid maxEntries in the %s with a 400 naming it', async (_where, body, query) => {
      const req = request(server()).post(`/exercise-cache/maintenance/evict${query}`);
      const res = await (body ? req.send(body) : req).expect(400);
      expect(res.body.message).toEqual(['maxEntries must be an integer from 0 to 100000000']);
    });

    it('rejects unknown fields', async () => {
      const res = await request(server()).post('/exercise-cache/maintenance/evict').send({ max: 3 }).expect(400);
      expect(res.body.message).toEqual(['max: property max should not exist']);
    });
  });

  describe('POST /exercise-cache/maintenance/refresh', () => {
    it('refreshes the daily metrics view and reports its rows', async () => {
      await insertExercises(db.pool, [{ exerciseType: 'a' }, { exerciseType: 'b' }]);
      const res = await request(server()).post('/exercise-cache/maintenance/refresh').expect(200);
      expect(res.body).toEqual({ job: 'refresh', affected: 2, durationMs: expect.any(Number) });
      const daily = await request(server()).get('/exercise-cache/metrics/daily').expect(200);
      expect(daily.body.map((r: { exerciseType: string }) => r.exerciseType).sort()).toEqual(['a', 'b']);
    });
  });

  describe('while another instance holds a job', () => {
    let holder: Client;
    beforeEach(async () => {
      holder = new Client({ connectionString: db.url });
      await holder.connect();
    });
    afterEach(() => holder.end());

    it.each(['cleanup', 'evict', 'refresh'] as const)('answers 409 for %s and runs it again once the lock is free', async (job) => {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [MAINTENANCE_LOCK_SPACE, MAINTENANCE_LOCK_IDS[job]]);
      const res = await request(server()).post(`/exercise-cache/maintenance/${job}`).expect(409);
      expect(res.body).toEqual({ statusCode: 409, error: 'Conflict', message: `maintenance job "${job}" is already running on another instance` });
      const { rows } = await db.pool.query('SELECT status, trigger FROM exercise_cache_maintenance_runs WHERE job = $1', [job]);
      expect(rows).toEqual([{ status: 'skipped', trigger: 'manual' }]);

      await holder.query('SELECT pg_advisory_unlock($1, $2)', [MAINTENANCE_LOCK_SPACE, MAINTENANCE_LOCK_IDS[job]]);
      await request(server()).post(`/exercise-cache/maintenance/${job}`).expect(200);
    });

    it('blocks only the job whose lock is held', async () => {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [MAINTENANCE_LOCK_SPACE, MAINTENANCE_LOCK_IDS.evict]);
      await request(server()).post('/exercise-cache/maintenance/cleanup').expect(200);
      await request(server()).post('/exercise-cache/maintenance/evict').expect(409);
    });
  });

  describe('GET /exercise-cache/maintenance/runs', () => {
    it('lists the latest runs newest first, optionally of one job', async () => {
      await request(server()).post('/exercise-cache/maintenance/cleanup').expect(200);
      await request(server()).post('/exercise-cache/maintenance/evict').expect(200);
      await request(server()).post('/exercise-cache/maintenance/refresh').expect(200);
      const all = await request(server()).get('/exercise-cache/maintenance/runs?limit=2').expect(200);
      expect(all.body.map((r: { job: string }) => r.job)).toEqual(['refresh', 'evict']);
      expect(all.body[0]).toEqual({
        id: expect.any(Number),
        job: 'refresh',
        status: 'ok',
        affected: 0,
        durationMs: expect.any(Number),
        error: null,
        instance: expect.any(String),
        trigger: 'manual',
        startedAt: expect.any(String),
        finishedAt: expect.any(String),
      });
      const cleanup = await request(server()).get('/exercise-cache/maintenance/runs?job=cleanup').expect(200);
      expect(cleanup.body.map((r: { job: string }) => r.job)).toEqual(['cleanup']);
    });

    it('rejects a bad limit or job', async () => {
      expect((await request(server()).get('/exercise-cache/maintenance/runs?limit=0').expect(400)).body.message).toEqual([
        'limit must be an integer from 1 to 1000',
      ]);
      expect((await request(server()).get('/exercise-cache/maintenance/runs?job=vacuum').expect(400)).body.message).toEqual([
        'job must be one of cleanup, evict, refresh, retire',
      ]);
    });
  });
});
