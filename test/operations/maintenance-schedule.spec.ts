import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import { cronJobName } from '../../src/maintenance/maintenance.service';
import { expired, insertExercises } from '../support/seed';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { pollUntil } from './poll';
import { sampleValue } from './prometheus-text';

const EVERY_SECOND = '*/1 * * * * *';

describe('scheduled maintenance', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('runs cleanup, evict and refresh on their schedules and records each run', async () => {
    await insertExercises(db.pool, [expired(), expired(), expired(), {}, {}, {}]);
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
});
