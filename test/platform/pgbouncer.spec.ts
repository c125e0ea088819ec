import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { L1Cache } from '../../src/cache/l1-cache';
import { validateConfig } from '../../src/config/app-config';
import { DatabaseRefusedError } from '../../src/database/connection-probe';
import { DatabaseHandle, openDatabase } from '../../src/database/database-handle';
import { listMigrationNames } from '../../src/database/migrations';
import { JobAlreadyRunningError } from '../../src/maintenance/job-already-running.error';
import { MAINTENANCE_LOCK_IDS, MAINTENANCE_LOCK_SPACE } from '../../src/maintenance/maintenance.repository';
import { MaintenanceService } from '../../src/maintenance/maintenance.service';
import { contextFor, gatedGenerator } from '../cache/cache-test-kit';
import { PROJECT_ROOT, ensureBuilt } from '../support/processes';
import { expired, insertExercises } from '../support/seed';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';
import { PGBOUNCER, PgBouncer, startPgBouncer } from './support/pgbouncer';
import { pollUntil } from '../support/poll';

/**
 * CI must run this test (.ci/run installs Debian's pgbouncer, and a missing binary fails the run).
 * On a developer's machine without it, `npm test` still passes: this file is skipped, loudly.
 */
const describeWithPgBouncer = PGBOUNCER || process.env.CI ? describe : describe.skip;
if (!PGBOUNCER && !process.env.CI) {
  console.warn('PgBouncer test skipped: no pgbouncer found (apt-get install pgbouncer, or set PGBOUNCER_PATH); CI always runs it');
}

/** pg_locks rows of the test's own database (other test files run in parallel). */
const THIS_DATABASE = 'database = (SELECT oid FROM pg_database WHERE datname = current_database())';

interface Instance {
  app: NestFastifyApplication;
  database: DatabaseHandle;
  cache: ExerciseCacheService;
  /** What the instance logged while opening its database. */
  lines: string[];
  http: () => ReturnType<typeof request>;
}

/** Starts the service the way main.ts does (openDatabase: pooler checks, migrations), listening. */
async function startInstance(env: Record<string, string>): Promise<Instance> {
  const config = validateConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOG_PRETTY: 'false',
    MIGRATE_ON_START: 'true',
    L1_ENABLED: 'true',
    CLEANUP_ENABLED: 'false',
    EVICT_ENABLED: 'false',
    REFRESH_ENABLED: 'false',
    ...env,
  });
  const lines: string[] = [];
  const database = await openDatabase(config, (line) => lines.push(line));
  const app = await createApp(config, database);
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return { app, database, cache: app.get(ExerciseCacheService), lines, http: () => request(url) };
}

describeWithPgBouncer('the service behind PgBouncer 1.18 in transaction mode, sessions on DATABASE_DIRECT_URL', () => {
  let db: TestDatabase;
  let bouncer: PgBouncer;
  let env: Record<string, string>;
  const instances: Instance[] = [];
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    if (!PGBOUNCER) {
      throw new Error('pgbouncer is not installed; this test needs it in CI. Install the Debian package: apt-get update && apt-get install -y pgbouncer (.ci/run does this)');
    }
    // An empty database: the first instance migrates it, through the direct URL.
    db = await createEmptyDatabase();
    bouncer = await startPgBouncer(db.url);
    env = { DATABASE_URL: bouncer.urlFor(db.url), DATABASE_DIRECT_URL: db.url };
    a = await startInstance(env);
    instances.push(a);
    b = await startInstance(env);
    instances.push(b);
  });
  afterAll(async () => {
    for (const instance of instances) await instance.app.close();
    await bouncer?.stop();
    await db?.drop();
  });

  it('migrates through DATABASE_DIRECT_URL and recognises the pooler at DATABASE_URL', async () => {
    const names = await listMigrationNames();
    expect(a.lines).toContain(`migrations applied: ${names.join(', ')}`);
    expect(b.lines).toContain('migrations: database is up to date');
    const { rows } = await db.pool.query('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1');
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    expect(a.database.profile).toEqual({ statementTimeoutAtConnect: false, transactionPooler: true });
    expect(a.lines).toContain('DATABASE_URL is a transaction-mode connection pooler');
    expect(a.lines).toContain('named prepared statements: off (DATABASE_PREPARED_STATEMENTS=auto)');
  });

  it('serves concurrent lookups and writes with variants over HTTP, through PgBouncer', async () => {
    const type = 'pgbouncer_variants';
    const store = (instance: Instance, n: number) =>
      instance.http().post('/exercise-cache').send({ context: { type, difficulty: 2, topics: ['pooling'] }, exercise: { n }, variants: 4 });
    const stored = await Promise.all(Array.from({ length: 4 }, (_, n) => store(n % 2 === 0 ? a : b, n)));
    expect(stored.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(new Set(stored.map((r) => r.body.key)).size).toBe(4);

    // Many lookups at once on both instances: the pools' clients take turns on PgBouncer's server
    // connections, which is where named prepared statements would fail.
    const lookups = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).http().get(`/exercise-cache?type=${type}&difficulty=2&topics=pooling&variants=4`)),
    );
    expect(lookups.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(lookups.every((r) => typeof r.body.exercise.n === 'number')).toBe(true);
    const { rows } = await db.pool.query('SELECT variant FROM exercise_cache WHERE exercise_type = $1 ORDER BY variant', [type]);
    expect(rows.map((r) => r.variant)).toEqual([1, 2, 3, 4]);

    // The queries did go through PgBouncer: it has clients for this database.
    const clients = await bouncer.admin('SHOW CLIENTS');
    expect(clients.filter((c) => c.database === db.name).length).toBeGreaterThan(0);
  });

  it('getOrGenerate on two instances at once generates once', async () => {
    const context = contextFor('pgbouncer_single_flight');
    const onA = gatedGenerator('A');
    const onB = gatedGenerator('B');
    const fromA = a.cache.getOrGenerate(context, onA.generate);
    await pollUntil(() => onA.generate.mock.calls.length === 1, Boolean, { what: 'A to hold the generation lock' });
    const fromB = Array.from({ length: 5 }, () => b.cache.getOrGenerate(context, onB.generate));
    // B's callers wait on A's session advisory lock, on the direct connection.
    await pollUntil(
      async () => (await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND ${THIS_DATABASE}`)).rows[0].n >= 1,
      Boolean,
      { what: "B to wait for A's lock" },
    );
    onA.release();
    onB.release();
    const results = await Promise.all([fromA, ...fromB]);
    expect(onA.generate).toHaveBeenCalledTimes(1);
    expect(onB.generate).not.toHaveBeenCalled();
    expect(results.every((exercise) => exercise.id === 'A-1')).toBe(true);
    await expectNoAdvisoryLocksLeft();
  });

  it('runs a maintenance job once: its lock is seen across instances and released on its own session', async () => {
    await insertExercises(db.pool, [expired(), expired()]);
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [MAINTENANCE_LOCK_SPACE, MAINTENANCE_LOCK_IDS.cleanup]);
      await expect(a.app.get(MaintenanceService).runNow('cleanup')).rejects.toBeInstanceOf(JobAlreadyRunningError);
    } finally {
      await holder.end();
    }
    await expect(a.app.get(MaintenanceService).runNow('cleanup')).resolves.toMatchObject({ job: 'cleanup', affected: 2 });
    // A released its lock on the session that took it, so B can run the job next.
    await expect(b.app.get(MaintenanceService).runNow('cleanup')).resolves.toMatchObject({ job: 'cleanup', affected: 0 });
    const { rows } = await db.pool.query("SELECT status, affected FROM exercise_cache_maintenance_runs WHERE job = 'cleanup' ORDER BY id");
    expect(rows).toEqual([
      { status: 'skipped', affected: null },
      { status: 'ok', affected: 2 },
      { status: 'ok', affected: 0 },
    ]);
    await expectNoAdvisoryLocksLeft();
  });

  it("drops an entry from A's L1 when B replaces it (LISTEN on the direct connection)", async () => {
    const context = contextFor('pgbouncer_l1');
    const key = cacheKeyFor(context);
    const l1OfA = a.app.get(L1Cache);
    const droppedByA = jest.spyOn(l1OfA, 'delete');
    const droppedFromA = () => droppedByA.mock.calls.some(([keys]) => [...keys].includes(key));
    try {
      await b.cache.set(context, { version: 1 });
      // A's read must come after B's notification of that write, or A does not keep it in L1.
      await pollUntil(droppedFromA, Boolean, { what: "A to receive B's notification of the write" });
      droppedByA.mockClear();
      expect(await a.cache.get(context)).toEqual({ version: 1 });
      expect(l1OfA.get(key)).toBeDefined();
      // A now serves version 1 from its L1, even after the row is changed behind the service's back.
      await db.pool.query(`UPDATE exercise_cache SET exercise_data = '{"version":"changed behind the cache"}' WHERE cache_key = $1`, [key]);
      expect(await a.cache.get(context)).toEqual({ version: 1 });
      await b.cache.set(context, { version: 2 });
      await pollUntil(droppedFromA, Boolean, { what: "A to receive B's notification of the new version" });
      expect(await a.cache.get(context)).toEqual({ version: 2 });
    } finally {
      droppedByA.mockRestore();
    }
  });

  it('refuses to start with one line when DATABASE_URL is the pooler and no direct URL is set', async () => {
    const config = validateConfig({ NODE_ENV: 'test', DATABASE_URL: env.DATABASE_URL, MIGRATE_ON_START: 'false' });
    await expect(openDatabase(config, () => undefined)).rejects.toThrow(DatabaseRefusedError);
    await expect(openDatabase(config, () => undefined)).rejects.toThrow(
      'DATABASE_URL is a transaction-mode connection pooler: set DATABASE_DIRECT_URL to a direct PostgreSQL connection (LISTEN, advisory locks and migrations need one session)',
    );

    await ensureBuilt();
    const run = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'main.js')], {
      env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', DATABASE_URL: env.DATABASE_URL },
      encoding: 'utf8',
      timeout: 30000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'exercise-cache failed to start: DATABASE_URL is a transaction-mode connection pooler: set DATABASE_DIRECT_URL to a direct PostgreSQL connection (LISTEN, advisory locks and migrations need one session)\n',
    );
  });

  it('refuses a DATABASE_DIRECT_URL that is the pooler too', async () => {
    const config = validateConfig({ NODE_ENV: 'test', DATABASE_URL: env.DATABASE_URL, DATABASE_DIRECT_URL: env.DATABASE_URL, MIGRATE_ON_START: 'false' });
    await expect(openDatabase(config, () => undefined)).rejects.toThrow(
      'DATABASE_DIRECT_URL is a transaction-mode connection pooler: it must reach PostgreSQL directly (LISTEN, advisory locks and migrations need one session)',
    );
  });

  async function expectNoAdvisoryLocksLeft() {
    await pollUntil(
      async () =>
        (await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND ${THIS_DATABASE}`)).rows[0].n === 0,
      Boolean,
      { what: 'no advisory lock to be left held' },
    );
  }
});
