import { Client } from 'pg';
import { ignoreConnectionErrors } from './checked-out-client';
import { listMigrationNames } from './migrations';

/**
 * The guide's Rollback section, statement for statement, then what this service adds to it
 * (lookup statistics, maintenance runs) and the migration records, so that `db:migrate`
 * re-applies everything afterwards and nothing of the cache is left behind.
 */
export const GUIDE_ROLLBACK_STATEMENTS = [
  'DROP MATERIALIZED VIEW IF EXISTS exercise_cache_daily_metrics',
  'DROP VIEW IF EXISTS exercise_cache_stats',
  'DROP VIEW IF EXISTS exercise_cache_overview',
  'DROP VIEW IF EXISTS expired_exercises',
  'DROP FUNCTION IF EXISTS cleanup_expired_exercises()',
  'DROP FUNCTION IF EXISTS evict_lru_exercises(INTEGER)',
  'DROP FUNCTION IF EXISTS get_exercise_cache_stats()',
  'DROP FUNCTION IF EXISTS get_overall_cache_stats()',
  'DROP FUNCTION IF EXISTS get_popular_exercises(INTEGER)',
  'DROP FUNCTION IF EXISTS get_lru_exercises(INTEGER)',
  'DROP FUNCTION IF EXISTS refresh_exercise_cache_metrics()',
  'DROP TABLE IF EXISTS exercise_cache',
];

const SERVICE_ROLLBACK_STATEMENTS = [
  'DROP TABLE IF EXISTS exercise_cache_lookup_stats',
  'DROP TABLE IF EXISTS exercise_cache_maintenance_runs',
  'DROP TABLE IF EXISTS exercise_cache_reports',
  'DROP TABLE IF EXISTS exercise_cache_leases',
];

export async function rollback(connectionString: string, log: (line: string) => void = () => undefined): Promise<void> {
  const client = ignoreConnectionErrors(new Client({ connectionString }));
  await client.connect();
  try {
    await client.query('BEGIN');
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
    log('rolled back: exercise cache table, functions, views and migration records removed');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
