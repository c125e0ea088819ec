import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Client, Pool, type ClientBase, type PoolConfig } from 'pg';
import { DEFAULT_SCHEMA, assertSchemaName, qualifiedName, quoteIdent } from './database-schema';
import { adoptGuideMigration007, isGuideMigration007 } from './guide-007-adoption';
import { createMigrationsTableSql } from './migration-records';
import { CheckedOutClient, ignoreConnectionErrors } from './checked-out-client';
import { openSchemaEngine } from './schema-engine';

/** prisma/ at the project root; the same relative path from src/database and dist/database. */
export const PRISMA_DIR = path.resolve(__dirname, '..', '..', 'prisma');
const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');

/** Serialises concurrent migrators (two replicas starting at once) on one database. */
const MIGRATION_LOCK_KEY = 7346_2001;

/** Tables of the cache: finding one without our migration records means the schema is not ours to migrate. */
const CACHE_TABLES = [
  'exercise_cache', 'exercise_cache_lookup_stats', 'exercise_cache_maintenance_runs', 'exercise_cache_reports', 'exercise_cache_leases',
];

export interface MigrateOptions {
  /** PostgreSQL schema that holds every object of the cache and its migration records (default public). */
  schema?: string;
  log?: (line: string) => void;
}

export interface MigrationFile {
  name: string;
  sql: string;
}

export async function listMigrationNames(): Promise<string[]> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

export async function readMigrations(): Promise<MigrationFile[]> {
  const names = await listMigrationNames();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(path.join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8') })));
}

/**
 * Applies pending migrations with Prisma's own schema engine (WebAssembly build), recording them
 * in _prisma_migrations exactly as `prisma migrate deploy` does, all in `schema`. A database
 * where the guide's migration 007 was applied is adopted first, in one transaction. Returns the
 * names applied. `connection` is a URL or the caller's pg Pool (one of its connections holds the
 * migration lock; the engine gets a pool of its own with the same settings, never the caller's).
 */
export async function applyMigrations(
  connection: string | Pool,
  options: MigrateOptions | ((line: string) => void) = {},
): Promise<string[]> {
  const { schema = DEFAULT_SCHEMA, log = () => undefined } = typeof options === 'function' ? { log: options } : options;
  assertSchemaName(schema);
  const lock = await checkOutConnection(connection);
  try {
    await lock.client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await lock.client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    const migrations = await readMigrations();
    if (await isGuideMigration007(lock.client, schema, migrations[0].name)) {
      const adopted = await adoptGuideMigration007(lock.client, schema, migrations, log);
      log(`adopted the guide's migration 007: ${adopted.rows} rows kept as ${adopted.entries} entries`);
      return migrations.map((m) => m.name);
    }
    await prepareForEngine(lock.client, schema);
    return await runEngine(engineConnection(connection), schema, migrations, log);
  } finally {
    await lock.client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}

async function runEngine(connection: PoolConfig, schema: string, migrations: MigrationFile[], log: (line: string) => void): Promise<string[]> {
  const schemaPath = path.join(PRISMA_DIR, 'schema.prisma');
  const lockfilePath = path.join(MIGRATIONS_DIR, 'migration_lock.toml');
  const { engine, close } = await openSchemaEngine(connection, [[schemaPath, await readFile(schemaPath, 'utf8')]], undefined, schema);
  try {
    const result = await engine.applyMigrations({
      migrationsList: {
        baseDir: MIGRATIONS_DIR,
        lockfile: { path: 'migration_lock.toml', content: await readFile(lockfilePath, 'utf8') },
        shadowDbInitScript: '',
        migrationDirectories: migrations.map(({ name, sql }) => ({
          path: name,
          migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: sql } },
        })),
      },
      filters: { externalTables: [], externalEnums: [] },
    } as never);
    const applied = (result as { appliedMigrationNames: string[] }).appliedMigrationNames;
    for (const name of applied) log(`applied migration ${name}`);
    return applied;
  } finally {
    await close();
  }
}

/**
 * The engine refuses a schema that holds tables but no _prisma_migrations (P3005), even when none
 * of them is ours. When none is, the records table is created here and the engine applies every
 * migration beside the application's tables. Our tables without our records: refused in one line.
 */
async function prepareForEngine(client: ClientBase, schema: string): Promise<void> {
  const { rows } = await client.query<{ has_records: boolean; ours: string[] }>(
    `SELECT to_regclass($2) IS NOT NULL AS has_records,
            ARRAY(SELECT relname::text FROM pg_class WHERE relnamespace = $1::regnamespace AND relname = ANY($3) ORDER BY 1) AS ours`,
    [quoteIdent(schema), qualifiedName(schema, '_prisma_migrations'), CACHE_TABLES],
  );
  const { has_records: hasRecords, ours } = rows[0];
  if (hasRecords) return;
  if (ours.length > 0) {
    throw new Error(
      `schema "${schema}" already holds ${ours.join(', ')} but no migration records (_prisma_migrations): ` +
        'set DATABASE_SCHEMA (the schema option) to a schema of its own for the cache',
    );
  }
  await client.query(createMigrationsTableSql(schema));
}

interface CheckedOut {
  client: ClientBase;
  release(): Promise<void>;
}

async function checkOutConnection(connection: string | Pool): Promise<CheckedOut> {
  if (typeof connection === 'string') {
    const client = ignoreConnectionErrors(new Client({ connectionString: connection }));
    await client.connect();
    return { client, release: () => client.end() };
  }
  const held = await CheckedOutClient.from(connection);
  return { client: held.client, release: async () => held.release() };
}

/** Settings for the engine's own pool: the caller's pool's connection settings, never its connections. */
function engineConnection(connection: string | Pool): PoolConfig {
  if (typeof connection === 'string') return { connectionString: connection };
  const { max: _max, min: _min, idleTimeoutMillis: _idle, ...settings } = (connection as Pool & { options: PoolConfig }).options;
  return settings;
}

/**
 * True when `schema` holds the cache's entries table: migrated by us, or the guide's migration 007
 * awaiting adoption. False for an empty database or another schema.
 */
export async function holdsCacheEntries(client: ClientBase, schema: string = DEFAULT_SCHEMA): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [qualifiedName(schema, 'exercise_cache')]);
  return rows[0].found;
}

/** Migrations in prisma/migrations that the database has not finished applying. */
export async function pendingMigrations(
  query: (sql: string) => Promise<{ migration_name: string }[]>,
  schema: string = DEFAULT_SCHEMA,
): Promise<string[]> {
  const names = await listMigrationNames();
  let applied: Set<string>;
  try {
    const rows = await query(
      `SELECT migration_name FROM ${qualifiedName(schema, '_prisma_migrations')} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    applied = new Set(rows.map((r) => r.migration_name));
  } catch (error) {
    if ((error as { code?: string }).code === '42P01' || /_prisma_migrations.*does not exist/.test(String(error))) {
      applied = new Set();
    } else {
      throw error;
    }
  }
  return names.filter((name) => !applied.has(name));
}
