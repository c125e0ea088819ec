import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { applyMigrations, listMigrationNames, pendingMigrations } from '../../src/database/migrations';
import { rollback } from '../../src/database/rollback';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

/** Tables, views, materialized views, indexes, sequences and functions of one schema. */
async function objectsIn(db: TestDatabase, schema: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ object: string }>(
    `SELECT c.relkind::text || ':' || c.relname AS object FROM pg_class c WHERE c.relnamespace = $1::regnamespace
     UNION ALL SELECT 'f:' || p.proname FROM pg_proc p WHERE p.pronamespace = $1::regnamespace
     ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.object);
}

async function withApplicationTables(db: TestDatabase): Promise<void> {
  await db.pool.query(`CREATE TABLE public.users (id serial PRIMARY KEY, email text NOT NULL);
    INSERT INTO public.users (email) VALUES ('ada@example.com'), ('alan@example.com')`);
}

describe('the schema option (DATABASE_SCHEMA)', () => {
  let names: string[];
  const databases: TestDatabase[] = [];
  const emptyDatabase = async () => {
    const db = await createEmptyDatabase();
    databases.push(db);
    return db;
  };
  beforeAll(async () => {
    names = await listMigrationNames();
  });
  afterAll(() => Promise.all(databases.map((db) => db.drop())));

  it('puts every object of the cache and its migration records in the schema, and nothing in public', async () => {
    const db = await emptyDatabase();
    await withApplicationTables(db);
    const publicBefore = await objectsIn(db, 'public');

    expect(await applyMigrations(db.url, { schema: 'learning_cache' })).toEqual(names);

    expect(await objectsIn(db, 'public')).toEqual(publicBefore);
    expect(await objectsIn(db, 'learning_cache')).toEqual(
      expect.arrayContaining([
        'r:_prisma_migrations', 'r:exercise_cache', 'r:exercise_cache_lookup_stats', 'r:exercise_cache_maintenance_runs',
        'i:idx_exercise_cache_key', 'i:idx_exercise_topics', 'v:exercise_cache_overview', 'v:exercise_cache_stats',
        'v:expired_exercises', 'm:exercise_cache_daily_metrics', 'f:evict_lru_exercises', 'f:refresh_exercise_cache_metrics',
      ]),
    );
    const { rows } = await db.pool.query('SELECT migration_name FROM learning_cache._prisma_migrations ORDER BY 1');
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.users')).rows[0].n).toBe(2);
  });

  it('applies nothing on a second run and reports nothing pending in that schema', async () => {
    const db = await emptyDatabase();
    await applyMigrations(db.url, { schema: 'learning_cache' });

    expect(await applyMigrations(db.url, { schema: 'learning_cache' })).toEqual([]);
    expect(await pendingMigrations((sql) => db.pool.query(sql).then((r) => r.rows), 'learning_cache')).toEqual([]);
    expect(await pendingMigrations((sql) => db.pool.query(sql).then((r) => r.rows))).toEqual(names);
  });

  it('migrates public beside an application table (no P3005) and leaves the table and its rows alone', async () => {
    const db = await emptyDatabase();
    await withApplicationTables(db);

    expect(await applyMigrations(db.url)).toEqual(names);
    expect(await objectsIn(db, 'public')).toEqual(expect.arrayContaining(['r:users', 'r:exercise_cache', 'r:_prisma_migrations']));
    expect((await db.pool.query('SELECT email FROM public.users ORDER BY id')).rows.map((r) => r.email)).toEqual([
      'ada@example.com',
      'alan@example.com',
    ]);
  });

  it('refuses, in one line naming DATABASE_SCHEMA, a schema holding tables of the cache without its migration records', async () => {
    const db = await emptyDatabase();
    await db.pool.query('CREATE TABLE exercise_cache_lookup_stats (day date)');

    const failure = await applyMigrations(db.url).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message.split('\n')).toEqual([expect.stringMatching(/exercise_cache_lookup_stats.*set DATABASE_SCHEMA/)]);
  });

  it('keeps two caches apart in two schemas of one database', async () => {
    const db = await emptyDatabase();
    await applyMigrations(db.url, { schema: 'cache_a' });
    await applyMigrations(db.url, { schema: 'cache_b' });
    await db.pool.query(
      `INSERT INTO cache_a.exercise_cache (cache_key, context_key, exercise_type, exercise_data, user_context_hash, difficulty, expires_at)
       VALUES ('k', 'k', 'quiz', '{}', 'h', 1, now() + interval '1 day')`,
    );

    expect((await db.pool.query('SELECT total_entries FROM cache_a.exercise_cache_overview')).rows[0].total_entries).toBe('1');
    expect((await db.pool.query('SELECT total_entries FROM cache_b.exercise_cache_overview')).rows[0].total_entries).toBe('0');
  });

  it("runs the cache's functions on its own tables whatever the caller's search_path", async () => {
    const db = await emptyDatabase();
    await applyMigrations(db.url, { schema: 'learning_cache' });
    await applyMigrations(db.url); // a second cache in public: the wrong tables to reach
    await db.pool.query(
      `INSERT INTO learning_cache.exercise_cache (cache_key, context_key, exercise_type, exercise_data, user_context_hash, difficulty, expires_at, created_at)
       VALUES ('old', 'old', 'quiz', '{}', 'h', 1, now() - interval '1 hour', now() - interval '2 hours'),
              ('new', 'new', 'quiz', '{}', 'h', 1, now() + interval '1 hour', now())`,
    );
    const client = await db.pool.connect();
    try {
      await client.query('SET search_path TO public');
      expect((await client.query('SELECT learning_cache.get_overall_cache_stats() AS s')).rows).toHaveLength(1);
      expect((await client.query('SELECT * FROM learning_cache.get_popular_exercises(10)')).rows.map((r) => r.cache_key)).toEqual(['new']);
      expect((await client.query('SELECT learning_cache.cleanup_expired_exercises() AS n')).rows[0].n).toBe(1);
      expect((await client.query('SELECT learning_cache.evict_lru_exercises(0) AS n')).rows[0].n).toBe(1);
      await client.query('SELECT learning_cache.refresh_exercise_cache_metrics()');
      await client.query("SET search_path TO ''");
      expect((await client.query('SELECT learning_cache.cleanup_expired_exercises() AS n')).rows[0].n).toBe(0);
    } finally {
      client.release();
    }
  });

  it('pins the search_path of every function of the cache to its schema (a later migration that forgets fails here)', async () => {
    const db = await emptyDatabase();
    await applyMigrations(db.url, { schema: 'learning_cache' });
    const { rows } = await db.pool.query<{ name: string; config: string[] | null }>(
      "SELECT proname AS name, proconfig AS config FROM pg_proc WHERE pronamespace = 'learning_cache'::regnamespace ORDER BY 1",
    );
    expect(rows.length).toBeGreaterThanOrEqual(11);
    for (const row of rows) expect({ name: row.name, config: row.config }).toEqual({ name: row.name, config: ['search_path=learning_cache'] });
  });

  it("migrates through a caller's pg Pool without changing its connections' search_path", async () => {
    const db = await emptyDatabase();
    const pool = new Pool({ connectionString: db.url, max: 2 });
    try {
      expect(await applyMigrations(pool, { schema: 'from_pool' })).toEqual(names);
      const { rows } = await pool.query('SHOW search_path');
      expect(rows[0].search_path).toBe('"$user", public');
      expect(await objectsIn(db, 'from_pool')).toContain('r:exercise_cache');
      expect(pool.totalCount).toBeGreaterThan(0); // the caller's pool is still open
    } finally {
      await pool.end();
    }
  });

  it('refuses a schema name that is not a plain identifier, naming the setting', async () => {
    const db = await emptyDatabase();
    await expect(applyMigrations(db.url, { schema: 'Cache; DROP TABLE users' })).rejects.toThrow(/^schema must be 1\.\.63 characters/);
    await expect(applyMigrations(db.url, { schema: 'pg_cache' })).rejects.toThrow(/must not start with "pg_"/);
  });

  it('rolls back only its own schema', async () => {
    const db = await emptyDatabase();
    await withApplicationTables(db);
    await applyMigrations(db.url, { schema: 'cache_a' });
    await applyMigrations(db.url, { schema: 'cache_b' });
    const publicBefore = await objectsIn(db, 'public');
    const cacheB = await objectsIn(db, 'cache_b');

    await rollback(db.url, { schema: 'cache_a' });
    expect(await objectsIn(db, 'cache_a')).toEqual([]);
    expect(await objectsIn(db, 'cache_b')).toEqual(cacheB);
    expect(await objectsIn(db, 'public')).toEqual(publicBefore);
  });

  describe('command line (dist)', () => {
    const cli = (script: string, databaseUrl: string, schema: string) =>
      run(process.execPath, [path.join(ROOT, 'dist', 'database', script)], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema },
      });

    it('db:migrate and db:rollback honour DATABASE_SCHEMA', async () => {
      const db = await emptyDatabase();
      await withApplicationTables(db);
      const publicBefore = await objectsIn(db, 'public');

      await cli('migrate.cli.js', db.url, 'app_cache');
      expect(await objectsIn(db, 'app_cache')).toContain('r:exercise_cache');
      expect(await objectsIn(db, 'public')).toEqual(publicBefore);

      const rolledBack = await cli('rollback.cli.js', db.url, 'app_cache');
      expect(rolledBack.stdout).toContain('schema "app_cache"');
      expect(await objectsIn(db, 'app_cache')).toEqual([]);
      expect(await objectsIn(db, 'public')).toEqual(publicBefore);
    });

    it('exits 1 with one line naming DATABASE_SCHEMA for an invalid name', async () => {
      const db = await emptyDatabase();
      const failure = await cli('migrate.cli.js', db.url, 'Not-Valid').catch((error: { code: number; stderr: string }) => error);
      expect(failure).toMatchObject({ code: 1 });
      expect((failure as { stderr: string }).stderr.trim().split('\n')).toEqual([expect.stringMatching(/DATABASE_SCHEMA must be/)]);
    });
  });
});
