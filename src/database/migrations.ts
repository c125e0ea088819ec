import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { ignoreConnectionErrors } from './checked-out-client';
import { openSchemaEngine } from './schema-engine';

/** prisma/ at the project root; the same relative path from src/database and dist/database. */
export const PRISMA_DIR = path.resolve(__dirname, '..', '..', 'prisma');
const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');

/** Serialises concurrent migrators (two replicas starting at once) on one database. */
const MIGRATION_LOCK_KEY = 7346_2001;

export async function listMigrationNames(): Promise<string[]> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/**
 * Applies pending migrations with Prisma's own schema engine (WebAssembly build), recording them
 * in _prisma_migrations exactly as `prisma migrate deploy` does. Returns the names applied.
 */
export async function applyMigrations(connectionString: string, log: (line: string) => void = () => undefined): Promise<string[]> {
  const lockClient = ignoreConnectionErrors(new Client({ connectionString }));
  await lockClient.connect();
  try {
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const schemaPath = path.join(PRISMA_DIR, 'schema.prisma');
    const schema = await readFile(schemaPath, 'utf8');
    const lockfilePath = path.join(MIGRATIONS_DIR, 'migration_lock.toml');
    const names = await listMigrationNames();
    const migrationDirectories = await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: { tag: 'ok' as const, value: await readFile(path.join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8') },
        },
      })),
    );
    const { engine, close } = await openSchemaEngine(connectionString, [[schemaPath, schema]]);
    try {
      const result = await engine.applyMigrations({
        migrationsList: {
          baseDir: MIGRATIONS_DIR,
          lockfile: { path: 'migration_lock.toml', content: await readFile(lockfilePath, 'utf8') },
          shadowDbInitScript: '',
          migrationDirectories,
        },
        filters: { externalTables: [], externalEnums: [] },
      } as never);
      const applied = (result as { appliedMigrationNames: string[] }).appliedMigrationNames;
      for (const name of applied) log(`applied migration ${name}`);
      return applied;
    } finally {
      await close();
    }
  } finally {
    await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockClient.end();
  }
}

/** Migrations in prisma/migrations that the database has not finished applying. */
export async function pendingMigrations(query: (sql: string) => Promise<{ migration_name: string }[]>): Promise<string[]> {
  const names = await listMigrationNames();
  let applied: Set<string>;
  try {
    const rows = await query(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
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
