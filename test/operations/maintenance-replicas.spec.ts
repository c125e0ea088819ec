import { Logger } from '@nestjs/common';
import { MaintenanceService } from '../../src/maintenance/maintenance.service';
import { expired, insertExercises } from '../support/seed';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { pollUntil } from './poll';

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

    // Rows per scheduled tick (the whole second the timers fired in), once both instances have
    // answered at least three ticks.
    const read = async () =>
      (
        await db.pool.query<RunRow>(
          `SELECT to_char(date_trunc('second', started_at), 'HH24:MI:SS') AS tick, instance, status, error
           FROM exercise_cache_maintenance_runs WHERE job = 'cleanup' AND trigger = 'scheduled' ORDER BY started_at`,
        )
      ).rows;
    const byTick = (rows: RunRow[]) => {
      const ticks = new Map<string, RunRow[]>();
      for (const row of rows) ticks.set(row.tick, [...(ticks.get(row.tick) ?? []), row]);
      return ticks;
    };
    const bothAnswered = (rows: RunRow[]) => [...byTick(rows).values()].filter((tick) => new Set(tick.map((r) => r.instance)).size === 2);
    const rows = await pollUntil(read, (r) => bothAnswered(r).length >= 3, 20000);

    expect(rows.filter((r) => r.status === 'failed')).toEqual([]);
    for (const tick of byTick(rows).values()) {
      expect(tick.filter((r) => r.status === 'ok')).toHaveLength(1);
    }
    for (const tick of bothAnswered(rows)) {
      expect(tick.map((r) => r.status).sort()).toEqual(['ok', 'skipped']);
      const skip = tick.find((r) => r.status === 'skipped')!;
      expect(skip.error).toMatch(/another instance holds its lock|already ran on/);
    }
    // The expired rows went in the first tick; both instances took part over the run.
    expect((await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache')).rows[0].n).toBe(0);
    expect(new Set(rows.filter((r) => r.status === 'ok').map((r) => r.instance)).size).toBeGreaterThanOrEqual(1);

    const skipLogs = logSpy.mock.calls
      .map((args, i) => ({ message: String(args[0]), context: (logSpy.mock.contexts[i] as unknown as { context?: string }).context }))
      .filter((call) => /^cleanup \(scheduled\) skipped: /.test(call.message));
    expect(skipLogs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(skipLogs.map((call) => call.context))).toEqual(new Set([MaintenanceService.name]));
  });
});
