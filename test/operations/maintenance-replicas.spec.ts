import { Logger } from '@nestjs/common';
import { MaintenanceService } from '../../src/maintenance/maintenance.service';
import { expired, insertExercises } from '../support/seed';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { pollUntil } from '../support/poll';

interface RunRow {
  tick: string;
  instance: string;
  status: string;
  error: string | null;
}

describe('scheduled maintenance on two instances sharing one database', () => {
  let db: TestDatabase;
  const apps: TestApp[] = [];
  const logSpy = jest.spyOn(Logger.prototype, 'log');

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()));
    await db?.drop();
    logSpy.mockRestore();
  });

  it('runs each scheduled tick once: one instance runs it, the other records and logs a skip', async () => {
    await insertExercises(db.pool, [expired(), expired()]);
    const env = { CLEANUP_CRON: '*/1 * * * * *', EVICT_ENABLED: 'false', REFRESH_ENABLED: 'false' };
    apps.push(await startTestApp(db.url, env), await startTestApp(db.url, env));
    const instances = apps.map((t) => t.app.get(MaintenanceService).instance);
    expect(new Set(instances).size).toBe(2);

    // Runs grouped by the second they started in. A run for the tick at T starts at T or later,
    // and a replica skips the tick at T when any run of the job started at T or later, so two ok
    // runs can never start within the same second: that is "each tick runs once". (Grouping
    // cannot pair every skip with its tick: on a loaded machine a run can start a second late.)
    const read = async () =>
      (
        await db.pool.query<RunRow>(
          `SELECT to_char(date_trunc('second', started_at), 'HH24:MI:SS') AS tick, instance, status, error
           FROM exercise_cache_maintenance_runs WHERE job = 'cleanup' AND trigger = 'scheduled' ORDER BY started_at`,
        )
      ).rows;
    const enough = (rows: RunRow[]) =>
      rows.filter((r) => r.status === 'ok').length >= 3 &&
      instances.every((instance) => rows.some((r) => r.instance === instance && r.status === 'skipped'));
    const rows = await pollUntil(read, enough, { timeoutMs: 30000 });

    expect(rows.filter((r) => r.status === 'failed')).toEqual([]);
    const okPerSecond = new Map<string, number>();
    for (const row of rows.filter((r) => r.status === 'ok')) okPerSecond.set(row.tick, (okPerSecond.get(row.tick) ?? 0) + 1);
    expect([...okPerSecond.entries()].filter(([, n]) => n > 1)).toEqual([]);
    for (const skip of rows.filter((r) => r.status === 'skipped')) {
      expect(skip.error).toMatch(/^(another instance holds its lock|the tick of \S+ already ran on \S+)$/);
    }
    // The expired rows went in the first run.
    expect((await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache')).rows[0].n).toBe(0);

    const skipLogs = logSpy.mock.calls
      .map((args, i) => ({ message: String(args[0]), context: (logSpy.mock.contexts[i] as unknown as { context?: string }).context }))
      .filter((call) => /^cleanup \(scheduled\) skipped: /.test(call.message));
    // Each instance logged its skips (the log line carries no instance name, so count them).
    expect(skipLogs.length).toBeGreaterThanOrEqual(rows.filter((r) => r.status === 'skipped').length);
    expect(new Set(skipLogs.map((call) => call.context))).toEqual(new Set([MaintenanceService.name]));
  });
  it('skips a tick that another replica has already run, even though the lock is free by then', async () => {
    await Promise.all(apps.splice(0).map((t) => t.close()));
    await db.pool.query('TRUNCATE exercise_cache_maintenance_runs');
    // Another replica's run for every upcoming tick: it started (in its own clock) after them.
    await db.pool.query(
      `INSERT INTO exercise_cache_maintenance_runs (job, status, affected, instance, trigger, started_at, finished_at)
       VALUES ('cleanup', 'ok', 0, 'replica-b', 'scheduled', now() + interval '1 hour', now() + interval '1 hour')`,
    );
    const t = await startTestApp(db.url, { CLEANUP_CRON: '*/1 * * * * *', EVICT_ENABLED: 'false', REFRESH_ENABLED: 'false' });
    apps.push(t);
    const rows = await pollUntil(
      () => db.pool.query(`SELECT status, error FROM exercise_cache_maintenance_runs WHERE instance <> 'replica-b'`).then((r) => r.rows),
      (r) => r.length >= 2,
    );
    for (const row of rows) expect(row).toEqual({ status: 'skipped', error: expect.stringMatching(/^the tick of \S+ already ran on replica-b$/) });
  });
});
