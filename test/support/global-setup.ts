import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { applyMigrations } from '../../src/database/migrations';
import { adminQuery, withDatabase } from './admin-query';
import { freePort } from './free-port';

declare global {
  // eslint-disable-next-line no-var
  var __EMBEDDED_TEST_PG__: EmbeddedPostgres | undefined;
  // eslint-disable-next-line no-var
  var __EMBEDDED_TEST_DIR__: string | undefined;
}

/**
 * One PostgreSQL for the whole run: DATABASE_URL when set (CI's PostgreSQL 15), otherwise an
 * embedded PostgreSQL started here. A migrated template database is built once; every test file
 * then clones it into a database of its own, so files run in parallel without sharing rows.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl: string;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    const runDir = await mkdtemp(path.join(tmpdir(), 'exercise-cache-test-'));
    await chmod(runDir, 0o755); // as root, PostgreSQL runs as user postgres, which must enter it
    const dataDir = path.join(runDir, 'postgres');
    const embedded = await EmbeddedPostgres.start({ dataDir, port: await freePort(), database: 'postgres' });
    globalThis.__EMBEDDED_TEST_PG__ = embedded;
    globalThis.__EMBEDDED_TEST_DIR__ = runDir;
    adminUrl = embedded.url;
  }
  const template = `ec_template_${process.pid}`;
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${template}`);
  await adminQuery(adminUrl, `CREATE DATABASE ${template}`);
  await applyMigrations(withDatabase(adminUrl, template));
  process.env.TEST_ADMIN_URL = adminUrl;
  process.env.TEST_TEMPLATE_DB = template;
  delete process.env.DATABASE_URL; // the app under test gets its own database, never this one
}

