import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import { cronJobName } from '../../src/maintenance/maintenance.service';
import { expired, insertExercises } from '../support/seed';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { pollUntil } from '../support/poll';
import { sampleValue } from './prometheus-text';

const EVERY_SECOND = '*/1 * * * * *';

describe('scheduled maintenance', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('runs cleanup, evict and refresh on their schedules and records each run', async () => {
    await insertExercises(db.pool, [expired(), expired(), expired(), {}, {}, {}, {}]);
    const t = await startTestApp(db.url, {
      CLEANUP_CRON: EVERY_SECOND,
      EVICT_CRON: EVERY_SECOND,
      REFRESH_CRON: EVERY_SECOND,
      MAX_ENTRIES: '2',
    });
    try {
      const counts = () =>
        db.pool
          .query(
            `SELECT count(*) FILTER (WHERE expires_at <= now())::int AS expired, count(*) FILTER (WHERE expires_at > now())::int AS active
             FROM exercise_cache`,
          )
          .then((r) => r.rows[0] as { expired: number; active: number });
      expect(await pollUntil(counts, (c) => c.expired === 0 && c.active === 2)).toEqual({ expired: 0, active: 2 });

      const runs = () =>
        db.pool
          .query(`SELECT job, max(affected)::int AS most FROM exercise_cache_maintenance_runs WHERE trigger = 'scheduled' AND status = 'ok' GROUP BY job ORDER BY job`)
          .then((r) => r.rows as { job: string; most: number }[]);
      const recorded = await pollUntil(runs, (rows) => rows.length === 3);
      expect(recorded).toEqual([
        { job: 'cleanup', most: 3 },
        { job: 'evict', most: 2 },
        { job: 'refresh', most: expect.any(Number) },
      ]);
      const daily = await pollUntil(
        () => db.pool.query('SELECT count(*)::int AS n FROM exercise_cache_daily_metrics').then((r) => r.rows[0].n as number),
        (n) => n > 0,
      );
      expect(daily).toBeGreaterThan(0);

      const metrics = (await request(t.app.getHttpServer()).get('/metrics').expect(200)).text;
      for (const job of ['cleanup', 'evict', 'refresh']) {
        expect(sampleValue(metrics, 'exercise_cache_maintenance_last_success_timestamp_seconds', { job })).toBeGreaterThan(Date.now() / 1000 - 60);
        expect(sampleValue(metrics, 'exercise_cache_maintenance_duration_seconds_count', { job })).toBeGreaterThanOrEqual(1);
      }
      expect(sampleValue(metrics, 'exercise_cache_expirations_total')).toBe(3);
      expect(sampleValue(metrics, 'exercise_cache_evictions_total')).toBe(2);
    } finally {
      await t.close();
    }
  });

  it('schedules only the enabled jobs, and stops them on shutdown', async () => {
    await db.pool.query('TRUNCATE exercise_cache_maintenance_runs');
    const t = await startTestApp(db.url, { CLEANUP_CRON: EVERY_SECOND, EVICT_ENABLED: 'false', REFRESH_ENABLED: 'false' });
    const registry = t.app.get(SchedulerRegistry);
    expect([...registry.getCronJobs().keys()]).toEqual([cronJobName('cleanup')]);
    const cleanup = registry.getCronJob(cronJobName('cleanup'));
    await pollUntil(
      () => db.pool.query(`SELECT count(*)::int AS n FROM exercise_cache_maintenance_runs`).then((r) => r.rows[0].n as number),
      (n) => n >= 1,
    );
    await t.close();
    expect(cleanup.isActive).toBe(false);
    const { rows } = await db.pool.query(`SELECT DISTINCT job FROM exercise_cache_maintenance_runs`);
    expect(rows).toEqual([{ job: 'cleanup' }]);
    const after = (await db.pool.query(`SELECT count(*)::int AS n FROM exercise_cache_maintenance_runs`)).rows[0].n;
    await new Promise((resolve) => setTimeout(resolve, 1500)); // more than one tick of the schedule
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM exercise_cache_maintenance_runs`)).rows[0].n).toBe(after);
  });
  it('lets a scheduled run that is under way at shutdown finish, record itself and notify the replicas before the pool closes', async () => {
    await db.pool.query('TRUNCATE exercise_cache, exercise_cache_maintenance_runs');
    const [key] = await insertExercises(db.pool, [expired()]);
    // Hold the expired row, so the cleanup's DELETE waits on it.
    const blocker = await db.pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM exercise_cache WHERE cache_key = $1 FOR UPDATE', [key]);
    // The finished cleanup tells the other replicas to drop their L1; that needs the pool still open.
    const listener = await db.pool.connect();
    const notices: string[] = [];
    listener.on('notification', (n) => notices.push(n.payload ?? ''));
    await listener.query('LISTEN exercise_cache_invalidate');
    const t = await startTestApp(db.url, { CLEANUP_CRON: EVERY_SECOND, EVICT_ENABLED: 'false', REFRESH_ENABLED: 'false' });
    let closed = false;
    try {
      await pollUntil(
        () =>
          db.pool
            .query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%cleanup_expired_exercises%'`)
            .then((r) => r.rows[0].n as number),
        (n) => n === 1,
      );
      const closing = t.close().then(() => (closed = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(closed).toBe(false); // still waiting for the run
      await blocker.query('COMMIT');
      await closing;
    } finally {
      if (!closed) await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
    const { rows } = await db.pool.query(`SELECT status, affected, trigger FROM exercise_cache_maintenance_runs`);
    expect(rows).toEqual([{ status: 'ok', affected: 1, trigger: 'scheduled' }]);
    await pollUntil(async () => notices.map((payload) => JSON.parse(payload).all), (all) => all.includes(true), { timeoutMs: 5000 }).finally(() => listener.release());
  });
});
