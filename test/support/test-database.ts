import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { adminQuery, withDatabase } from './admin-query';

export interface TestDatabase {
  url: string;
  name: string;
  /** A small pool for assertions and seeding straight in SQL. */
  pool: Pool;
  drop(): Promise<void>;
}

/** A fresh, fully migrated database cloned from the run's template; one per test file. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase('ec_test', `TEMPLATE ${requireEnv('TEST_TEMPLATE_DB')}`);
}

/** An empty database (no migrations), for migrate and rollback tests. */
export function createEmptyDatabase(): Promise<TestDatabase> {
  return createDatabase('ec_empty', '');
}

async function createDatabase(prefix: string, options: string): Promise<TestDatabase> {
  const adminUrl = requireEnv('TEST_ADMIN_URL');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name} ${options}`);
  const url = withDatabase(adminUrl, name);
  const pool = quietPool(url);
  return {
    url,
    name,
    pool,
    drop: async () => {
      await pool.end();
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** DROP DATABASE ... WITH (FORCE) may end a connection that is still closing: not an error here. */
function quietPool(url: string): Pool {
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return pool;
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (globalSetup prepares the database)`);
  return value;
}
