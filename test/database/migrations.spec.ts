import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { applyMigrations, holdsCacheEntries, listMigrationNames, pendingMigrations } from '../../src/database/migrations';
import { rollback } from '../../src/database/rollback';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';

const ROOT = path.resolve(__dirname, '..', '..');
const GUIDE_007 = readFileSync(path.join(__dirname, 'fixtures', 'guide-007-exercise-cache.sql'), 'utf8');
const MIGRATIONS_DIR = path.join(ROOT, 'prisma', 'migrations');
const run = promisify(execFile);

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
  logs: string | null;
}

/** Everything in the public schema: relations of any kind (tables, views, indexes, sequences) and functions. */
async function publicObjects(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ object: string }>(
    `SELECT c.relkind::text || ':' || c.relname AS object FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
     UNION ALL SELECT 'f:' || p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
     UNION ALL SELECT 't:' || t.typname FROM pg_type t
       WHERE t.typnamespace = 'public'::regnamespace AND t.typrelid = 0 AND t.typelem = 0
     ORDER BY 1`,
  );
  return rows.map((r) => r.object);
}

async function migrationRows(db: TestDatabase): Promise<MigrationRow[]> {
  const { rows } = await db.pool.query<MigrationRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY migration_name',
  );
  return rows;
}

const checksumOf = (name: string) =>
  createHash('sha256').update(readFileSync(path.join(MIGRATIONS_DIR, name, 'migration.sql'))).digest('hex');

describe('migrations', () => {
  let names: string[];
  let migratedObjects: string[];
  const databases: TestDatabase[] = [];
  const emptyDatabase = async () => {
    const db = await createEmptyDatabase();
    db.pool.on('error', () => undefined); // a connection still closing when drop() forces the database away
    databases.push(db);
    return db;
  };

  beforeAll(async () => {
    names = await listMigrationNames();
    const reference = await emptyDatabase();
    await applyMigrations(reference.url);
    migratedObjects = await publicObjects(reference);
  });
  afterAll(() => Promise.all(databases.map((db) => db.drop())));

  it('finds the init and SQL-objects migrations, in name order', () => {
    expect(names.slice(0, 2)).toEqual(['20261125000000_init', '20261125000100_sql_objects']);
    expect([...names].sort()).toEqual(names);
  });

  describe('applyMigrations', () => {
    it('applies every migration to an empty database and records each as prisma migrate deploy does', async () => {
      const db = await emptyDatabase();
      expect(await applyMigrations(db.url)).toEqual(names);

      const rows = await migrationRows(db);
      expect(rows.map((r) => r.migration_name)).toEqual(names);
      for (const row of rows) {
        expect(row).toMatchObject({ checksum: checksumOf(row.migration_name), rolled_back_at: null, applied_steps_count: 1, logs: null });
        expect(row.finished_at).toBeInstanceOf(Date);
      }
      expect(await publicObjects(db)).toEqual(migratedObjects);
      expect(migratedObjects).toEqual(expect.arrayContaining(['r:exercise_cache', 'm:exercise_cache_daily_metrics', 'f:evict_lru_exercises']));
    });

    it('applies nothing on a second run and leaves the records untouched', async () => {
      const db = await emptyDatabase();
      await applyMigrations(db.url);
      const before = await migrationRows(db);

      expect(await applyMigrations(db.url)).toEqual([]);
      expect(await migrationRows(db)).toEqual(before);
    });

    it('lets two concurrent runs on one fresh database both succeed and records each migration once', async () => {
      const db = await emptyDatabase();
      const [first, second] = await Promise.all([applyMigrations(db.url), applyMigrations(db.url)]);

      expect([...first, ...second].sort()).toEqual(names);
      expect((await migrationRows(db)).map((r) => r.migration_name)).toEqual(names);
      expect(await publicObjects(db)).toEqual(migratedObjects);
    });
  });

  describe('pendingMigrations', () => {
    it('reports every migration before the first run and none after', async () => {
      const db = await emptyDatabase();
      const query = (sql: string) => db.pool.query(sql).then((r) => r.rows);

      expect(await pendingMigrations(query)).toEqual(names);
      await applyMigrations(db.url);
      expect(await pendingMigrations(query)).toEqual([]);
    });

    it('reports a migration whose record says it never finished', async () => {
      const db = await emptyDatabase();
      await applyMigrations(db.url);
      await db.pool.query('UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = $1', [names[1]]);

      expect(await pendingMigrations((sql) => db.pool.query(sql).then((r) => r.rows))).toEqual([names[1]]);
    });
  });

  // The CLI asks this before using an embedded PostgreSQL that the service already runs.
  describe('holdsCacheEntries', () => {
    it('is false for an empty database and true once migrated', async () => {
      const db = await emptyDatabase();
      const client = await db.pool.connect();
      try {
        expect(await holdsCacheEntries(client)).toBe(false);
        await applyMigrations(db.url);
        expect(await holdsCacheEntries(client)).toBe(true);
      } finally {
        client.release();
      }
    });

    it('looks in the given schema only', async () => {
      const db = await emptyDatabase();
      await applyMigrations(db.url, { schema: 'tenant_cache' });
      const client = await db.pool.connect();
      try {
        expect(await holdsCacheEntries(client, 'tenant_cache')).toBe(true);
        expect(await holdsCacheEntries(client)).toBe(false);
      } finally {
        client.release();
      }
    });

    it("is true for the guide's migration 007, which migrating adopts", async () => {
      const db = await emptyDatabase();
      await db.pool.query(GUIDE_007);
      const client = await db.pool.connect();
      try {
        expect(await holdsCacheEntries(client)).toBe(true);
      } finally {
        client.release();
      }
    });
  });

  describe('rollback', () => {
    it('leaves no table, view, materialized view, function, index or migration record behind', async () => {
      const db = await emptyDatabase();
      const untouched = await publicObjects(db);
      await applyMigrations(db.url);
      await db.pool.query(
        `INSERT INTO exercise_cache (cache_key, context_key, exercise_type, exercise_data, user_context_hash, difficulty, expires_at)
         VALUES ('k', 'k', 'quiz', '{}', 'h', 1, now() + interval '1 day')`,
      );

      await rollback(db.url);
      expect(await publicObjects(db)).toEqual(untouched);
    });

    it('keeps the migration records of other applications sharing the database', async () => {
      const db = await emptyDatabase();
      await applyMigrations(db.url);
      await db.pool.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ('other', 'x', '20200101000000_other_app', now(), now(), 1)`,
      );

      await rollback(db.url);
      expect((await migrationRows(db)).map((r) => r.migration_name)).toEqual(['20200101000000_other_app']);
      expect(await publicObjects(db)).not.toContain('r:exercise_cache');
    });

    it('is followed by a clean re-apply of every migration', async () => {
      const db = await emptyDatabase();
      await applyMigrations(db.url);
      await rollback(db.url);

      expect(await applyMigrations(db.url)).toEqual(names);
      expect(await publicObjects(db)).toEqual(migratedObjects);
      expect(await pendingMigrations((sql) => db.pool.query(sql).then((r) => r.rows))).toEqual([]);
    });
  });

  describe('command line (dist)', () => {
    beforeAll(() => {
      if (!existsSync(path.join(ROOT, 'dist', 'database', 'migrate.cli.js'))) {
        spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
      }
    }, 180000);

    const cli = (script: string, databaseUrl: string) =>
      run(process.execPath, [path.join(ROOT, 'dist', 'database', script)], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: databaseUrl },
      });

    it('db:migrate applies the migrations, then reports the database up to date', async () => {
      const db = await emptyDatabase();
      const first = await cli('migrate.cli.js', db.url);
      expect(first.stdout).toContain(`migrations applied: ${names.join(', ')}`);
      expect(first.stdout).toMatch(/using PostgreSQL at .* \(DATABASE_URL\)/);

      const second = await cli('migrate.cli.js', db.url);
      expect(second.stdout).toContain('migrations: database is up to date');
      expect(await publicObjects(db)).toEqual(migratedObjects);
    });

    it('two db:migrate processes at once both exit 0 and record each migration once', async () => {
      const db = await emptyDatabase();
      await Promise.all([cli('migrate.cli.js', db.url), cli('migrate.cli.js', db.url)]);
      expect((await migrationRows(db)).map((r) => r.migration_name)).toEqual(names);
    });

    it('db:rollback removes everything, and db:migrate re-applies it', async () => {
      const db = await emptyDatabase();
      const untouched = await publicObjects(db);
      await cli('migrate.cli.js', db.url);

      const rolledBack = await cli('rollback.cli.js', db.url);
      expect(rolledBack.stdout).toContain('rolled back');
      expect(await publicObjects(db)).toEqual(untouched);

      await cli('migrate.cli.js', db.url);
      expect(await publicObjects(db)).toEqual(migratedObjects);
    });

    it('exits 1 with one line on stderr when the database does not exist', async () => {
      const db = await emptyDatabase();
      const missing = db.url.replace(db.name, `${db.name}_missing`);
      const failure = await cli('migrate.cli.js', missing).catch((error: { code: number; stderr: string }) => error);
      expect(failure).toMatchObject({ code: 1 });
      expect((failure as { stderr: string }).stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: .*does not exist/)]);
    });
  });
});
