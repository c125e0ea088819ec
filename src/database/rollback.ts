import { Client } from 'pg';
import { ignoreConnectionErrors } from './checked-out-client';
import { DEFAULT_SCHEMA, assertSchemaName, setLocalSearchPath } from './database-schema';
import { GUIDE_ROLLBACK_STATEMENTS } from './guide-rollback-statements';
import { listMigrationNames } from './migrations';

export { GUIDE_ROLLBACK_STATEMENTS };

/**
 * Rollback is the migrations' counterpart, not a query of any feature: it drops every object of
 * every feature (the cache's, leases, reports, maintenance runs) by name, as the migrations
 * create them, so it lives with the migrations here rather than in one feature's repository.
 *
 * The guide's Rollback section, statement for statement, then what this service adds to it
 * (lookup statistics, maintenance runs, the functions of later migrations) and the migration
 * records, so that `db:migrate` re-applies everything afterwards and nothing of the cache is
 * left behind. Everything happens in `schema`, through search_path, in one transaction.
 */
const SERVICE_ROLLBACK_STATEMENTS = [
  'DROP TABLE IF EXISTS exercise_cache_lookup_stats',
  'DROP TABLE IF EXISTS exercise_cache_maintenance_runs',
  'DROP TABLE IF EXISTS exercise_cache_reports',
  'DROP TABLE IF EXISTS exercise_cache_leases',
  'DROP FUNCTION IF EXISTS cache_fill_guide_insert()',
  'DROP FUNCTION IF EXISTS cache_context_key(TEXT, INTEGER, TEXT[])',
  'DROP FUNCTION IF EXISTS cache_user_context_hash(INTEGER, TEXT[])',
  'DROP FUNCTION IF EXISTS cache_context_topics(TEXT[])',
];

export async function rollback(
  connectionString: string,
  options: { schema?: string; log?: (line: string) => void } | ((line: string) => void) = {},
): Promise<void> {
  const { schema = DEFAULT_SCHEMA, log = () => undefined } = typeof options === 'function' ? { log: options } : options;
  assertSchemaName(schema);
  const client = ignoreConnectionErrors(new Client({ connectionString }));
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(setLocalSearchPath(schema));
    for (const statement of [...GUIDE_ROLLBACK_STATEMENTS, ...SERVICE_ROLLBACK_STATEMENTS]) {
      await client.query(statement);
    }
    const { rows } = await client.query<{ exists: boolean }>("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists");
    if (rows[0].exists) {
      await client.query('DELETE FROM _prisma_migrations WHERE migration_name = ANY($1)', [await listMigrationNames()]);
      // Drop the bookkeeping table too when nothing else uses it, so no object is left behind.
      await client.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM _prisma_migrations) THEN DROP TABLE _prisma_migrations; END IF;
      END $$`);
    }
    await client.query('COMMIT');
    log(`rolled back: exercise cache table, functions, views and migration records removed from schema "${schema}"`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
