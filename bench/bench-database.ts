import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { redactUrl } from '../src/database/database-handle';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { adminQuery, withDatabase } from '../test/support/admin-query';
import { freePort } from '../test/support/free-port';
import { loadFromBuild } from './product-build';

/** The PostgreSQL the bench runs on: a fresh, migrated database that is dropped at the end. */
export interface BenchDatabase {
  url: string;
  name: string;
  /** The server's maintenance database, for creating sibling databases on the same server. */
  adminUrl: string;
  /** Where it runs, for the report (password redacted). */
  source: string;
  serverVersion: string;
  drop(): Promise<void>;
}

/**
 * DATABASE_URL's server when set, else an embedded PostgreSQL in a temporary folder; either way
 * the bench works in a database of its own (bench_<pid>) so it never touches real data. The
 * migrations are those of the product build in `dist`.
 */
export async function openBenchDatabase(adminUrl: string | undefined, dist: string, log: (line: string) => void): Promise<BenchDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let tempDir: string | undefined;
  if (!adminUrl) {
    tempDir = await mkdtemp(path.join(tmpdir(), 'exercise-cache-bench-'));
    // The postgres user (PostgreSQL refuses to run as root) must be able to enter the folder.
    await chmod(tempDir, 0o755);
    embedded = await EmbeddedPostgres.start({ dataDir: path.join(tempDir, 'postgres'), port: await freePort(), database: 'postgres' });
    adminUrl = embedded.url;
    log(`embedded PostgreSQL on 127.0.0.1:${embedded.port} (data in ${embedded.dataDir})`);
  }
  const name = `bench_${process.pid}`;
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = withDatabase(adminUrl, name);
  const { applyMigrations } = loadFromBuild<typeof import('../src/database/migrations')>(dist, 'database/migrations');
  await applyMigrations(url);
  const serverVersion = await scalar(url, "SELECT current_setting('server_version')");
  const dataDir = embedded?.dataDir;
  return {
    url,
    name,
    adminUrl,
    source: embedded ? `embedded PostgreSQL (temporary, port ${embedded.port})` : `DATABASE_URL ${redactUrl(adminUrl)}`,
    serverVersion,
    drop: async () => {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((error: Error) => log(`could not drop ${name}: ${error.message}`));
      if (embedded) {
        await embedded.stop();
        if (dataDir && dataDir !== path.join(tempDir!, 'postgres')) await rm(dataDir, { recursive: true, force: true });
      }
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}

async function scalar(url: string, sql: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ value: string }>(`SELECT (${sql}) AS value`);
    return String(rows[0].value);
  } finally {
    await client.end();
  }
}
