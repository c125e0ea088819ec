import { Pool } from 'pg';
import { ExerciseCacheDB } from '../../src/library/exercise-cache-db';
import { createExerciseCache, createExerciseCacheDB } from '../../src/library/create-exercise-cache';
import { openExerciseCache } from '../../src/library/open-exercise-cache';
import { pollUntil } from '../support/poll';
import { expired, insertExercises } from '../support/seed';
import { TestDatabase, createTestDatabase } from '../support/test-database';

interface RunRow {
  job: string;
  second: string;
  instance: string;
  status: string;
  error: string | null;
}

const EVERY_SECOND = { cleanupIntervalMs: 1000, evictIntervalMs: 1000, refreshIntervalMs: 1000 };
const JOBS = ['cleanup', 'evict', 'refresh'];

/**
 * The package's `maintenance` option: two library instances on one database (one on the caller's
 * pool, one on a URL), every job each second, against a real PostgreSQL.
 */
describe('scheduled maintenance of the library (maintenance option), two instances on one database', () => {
  let db: TestDatabase;
  let pool: Pool;
  const caches: ExerciseCacheDB[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await pool?.end();
    await db?.drop();
  });

  /** What the caches log (level and message): nothing may come after close(). */
  const logged: string[] = [];
  const logger = {
    log: (message: string) => logged.push(`log ${message}`),
    warn: (message: string) => logged.push(`warn ${message}`),
    error: (message: string) => logged.push(`error ${message}`),
  };

  const runs = async () =>
    (
      await db.pool.query<RunRow>(
        `SELECT job, to_char(date_trunc('second', started_at), 'HH24:MI:SS') AS second, instance, status, error
         FROM exercise_cache_maintenance_runs WHERE trigger = 'scheduled' ORDER BY started_at, id`,
      )
    ).rows;

  it('runs each job once per interval across both, cleans expired entries, evicts down to maxEntries, and stops at close()', async () => {
    // 8 live entries over a bound of 5, and 3 expired ones.
    await insertExercises(db.pool, [
      ...Array.from({ length: 8 }, (_, i) => ({ exerciseType: `live_${i}` })),
      expired({ exerciseType: 'gone_1' }),
      expired({ exerciseType: 'gone_2' }),
      expired({ exerciseType: 'gone_3' }),
    ]);
    caches.push(
      createExerciseCacheDB(pool, { maintenance: EVERY_SECOND, maxEntries: 5, logger }),
      createExerciseCache({ databaseUrl: db.url, maintenance: EVERY_SECOND, maxEntries: 5, logger }),
    );
    // Starts them (every call waits for start-up).
    await Promise.all(caches.map((c) => c.get({ type: 'warm_up', difficulty: 1, topics: [] })));

    const enough = (rows: RunRow[]) =>
      JOBS.every((job) => rows.filter((r) => r.job === job && r.status === 'ok').length >= 3) &&
      new Set(rows.filter((r) => r.status === 'skipped').map((r) => r.instance)).size === 2;
    const rows = await pollUntil(runs, enough, { what: 'three ok runs of every job and skips on both instances', timeoutMs: 60000 });

    expect(rows.filter((r) => r.status === 'failed')).toEqual([]);
    expect(new Set(rows.map((r) => r.instance)).size).toBe(2);
    // A run for the tick at T starts at T or later, and an instance skips the tick at T when a run
    // of the job started at T or later: two ok runs of one job never start within one second.
    for (const job of JOBS) {
      const okPerSecond = new Map<string, number>();
      for (const row of rows.filter((r) => r.job === job && r.status === 'ok')) okPerSecond.set(row.second, (okPerSecond.get(row.second) ?? 0) + 1);
      expect({ job, twice: [...okPerSecond.entries()].filter(([, n]) => n > 1) }).toEqual({ job, twice: [] });
    }
    for (const skip of rows.filter((r) => r.status === 'skipped')) {
      expect(skip.error).toMatch(/^(another instance holds its lock|the tick of \S+ already ran on \S+)$/);
    }
    const { rows: left } = await db.pool.query<{ expired: number; live: number }>(
      'SELECT count(*) FILTER (WHERE expires_at <= now())::int AS expired, count(*) FILTER (WHERE expires_at > now())::int AS live FROM exercise_cache',
    );
    expect(left[0]).toEqual({ expired: 0, live: 5 });

    // An entry that expires now is cleaned at a later tick.
    await insertExercises(db.pool, [expired({ exerciseType: 'gone_later' })]);
    await pollUntil(
      async () => (await db.pool.query("SELECT count(*)::int AS n FROM exercise_cache WHERE exercise_type = 'gone_later'")).rows[0].n,
      (n) => n === 0,
      { what: 'the later expired entry to be cleaned', timeoutMs: 30000 },
    );

    // close() stops the timers (and waits for a run under way): nothing runs, or tries to, afterwards.
    await Promise.all(caches.map((c) => c.close()));
    const count = async () => (await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache_maintenance_runs')).rows[0].n;
    const atClose = { runs: await count(), logLines: logged.length };
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect({ runs: await count(), logLines: logged.length }).toEqual(atClose);
    expect(logged.filter((line) => line.startsWith('error'))).toEqual([]);
    expect(pool.ended).toBe(false);
  });

  it('runs a tick that another instance already ran as a recorded skip, whenever its timer fires', async () => {
    const quiet = { cleanupIntervalMs: 0, evictIntervalMs: 0, refreshIntervalMs: 0 };
    const [first, second] = [openExerciseCache({ pool, maintenance: quiet, logger: false }), openExerciseCache({ pool, maintenance: quiet, logger: false })];
    try {
      await insertExercises(db.pool, [expired({ exerciseType: 'tick_test' })]);
      const tick = new Date(Math.floor(Date.now() / 1000) * 1000);
      expect(await first.maintenance!.runScheduled('cleanup', tick)).toMatchObject({ status: 'ok', affected: 1 });
      // The same tick, later, on the other instance: skipped by the history, not by the lock.
      expect(await second.maintenance!.runScheduled('cleanup', tick)).toMatchObject({ status: 'skipped' });
      const { rows } = await db.pool.query<{ instance: string; status: string; error: string | null }>(
        "SELECT instance, status, error FROM exercise_cache_maintenance_runs WHERE job = 'cleanup' AND started_at >= $1 ORDER BY id",
        [tick],
      );
      expect(rows).toEqual([
        { instance: first.maintenance!.instance, status: 'ok', error: null },
        { instance: second.maintenance!.instance, status: 'skipped', error: `the tick of ${tick.toISOString()} already ran on ${first.maintenance!.instance}` },
      ]);
      // The next tick runs again.
      const next = new Date(tick.getTime() + 1000);
      while (Date.now() < next.getTime()) await new Promise((resolve) => setTimeout(resolve, next.getTime() - Date.now()));
      expect(await second.maintenance!.runScheduled('cleanup', next)).toMatchObject({ status: 'ok' });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
