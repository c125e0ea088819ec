import type { AppConfig } from '../config/app-config';
import { ConnectionProfile, DatabaseRefusedError, probeConnection } from './connection-probe';
import { EmbeddedPostgres } from './embedded-postgres';
import { applyMigrations } from './migrations';

/** Which PostgreSQL the process uses, and the embedded server when it started one. */
export interface DatabaseHandle {
  /** Queries (DATABASE_URL): may be a transaction-mode pooler. */
  url: string;
  /** PostgreSQL schema of the cache's objects (DATABASE_SCHEMA); public when unset. */
  schema?: string;
  /** What needs one session: LISTEN, session advisory locks, migrations (DATABASE_DIRECT_URL). Unset: `url`. */
  directUrl?: string;
  /** What `url` turned out to be at startup; unset: PostgreSQL itself. */
  profile?: ConnectionProfile;
  embedded?: EmbeddedPostgres;
}

/** The URL for work that must stay on one PostgreSQL session. */
export function sessionUrlOf(database: DatabaseHandle): string {
  return database.directUrl ?? database.url;
}

/** DATABASE_PREPARED_STATEMENTS, with "auto" resolved: off through a transaction-mode pooler. */
export function preparedStatementsOn(config: AppConfig, database: DatabaseHandle): boolean {
  if (config.DATABASE_PREPARED_STATEMENTS !== 'auto') return config.DATABASE_PREPARED_STATEMENTS;
  return !(database.profile?.transactionPooler ?? false);
}

export const DATABASE_HANDLE = Symbol('DATABASE_HANDLE');

/** Uses DATABASE_URL, or starts the embedded PostgreSQL when it is unset; then migrates if asked. */
export async function openDatabase(
  config: AppConfig,
  log: (line: string) => void,
  options: { migrate: boolean } = { migrate: config.MIGRATE_ON_START },
): Promise<DatabaseHandle> {
  let handle: DatabaseHandle;
  if (config.DATABASE_URL) {
    log(`using PostgreSQL at ${redactUrl(config.DATABASE_URL)} (DATABASE_URL)`);
    handle = { url: config.DATABASE_URL, directUrl: config.DATABASE_DIRECT_URL, schema: config.DATABASE_SCHEMA };
    handle.profile = await inspectConnections(config, config.DATABASE_URL, config.DATABASE_DIRECT_URL, log);
  } else {
    const embedded = await EmbeddedPostgres.start({ dataDir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, log });
    log(`DATABASE_URL is unset: using embedded PostgreSQL on 127.0.0.1:${embedded.port}, data in ${embedded.dataDir}`);
    handle = { url: embedded.url, schema: config.DATABASE_SCHEMA, embedded };
  }
  if (options.migrate) {
    try {
      const applied = await applyMigrations(sessionUrlOf(handle), { schema: handle.schema, log });
      log(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'migrations: database is up to date');
    } catch (error) {
      await handle.embedded?.stop();
      throw error;
    }
  }
  return handle;
}

/**
 * Finds out whether DATABASE_URL is a pooler, and refuses, with one line, a setup that cannot work:
 * a transaction-mode pooler without a direct URL for sessions, or a direct URL that is one.
 */
async function inspectConnections(
  config: AppConfig,
  url: string,
  directUrl: string | undefined,
  log: (line: string) => void,
): Promise<ConnectionProfile> {
  const options = { statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS, connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS };
  let profile = await probeConnection(url, 'DATABASE_URL', options);
  if (!profile) {
    // Unreachable for now: with a direct URL configured, DATABASE_URL is presumably the pooler.
    profile = { statementTimeoutAtConnect: !directUrl, transactionPooler: !!directUrl };
    log(`DATABASE_URL cannot be reached yet; assuming it is ${directUrl ? 'a transaction-mode pooler (DATABASE_DIRECT_URL is set)' : 'PostgreSQL itself'}`);
  }
  if (profile.transactionPooler && !directUrl) {
    throw new DatabaseRefusedError(
      'DATABASE_URL is a transaction-mode connection pooler: set DATABASE_DIRECT_URL to a direct PostgreSQL connection (LISTEN, advisory locks and migrations need one session)',
    );
  }
  if (directUrl) {
    log(`sessions (LISTEN, advisory locks, migrations) use ${redactUrl(directUrl)} (DATABASE_DIRECT_URL)`);
    const direct = await probeConnection(directUrl, 'DATABASE_DIRECT_URL', options);
    if (direct?.transactionPooler) {
      throw new DatabaseRefusedError(
        'DATABASE_DIRECT_URL is a transaction-mode connection pooler: it must reach PostgreSQL directly (LISTEN, advisory locks and migrations need one session)',
      );
    }
  }
  if (profile.transactionPooler) log('DATABASE_URL is a transaction-mode connection pooler');
  if (!profile.statementTimeoutAtConnect) {
    log('DATABASE_URL does not take statement_timeout at connect: DATABASE_STATEMENT_TIMEOUT_MS is enforced by the client; set statement_timeout for the database role to enforce it on the server too');
  }
  log(`named prepared statements: ${preparedStatementsOn(config, { url, profile }) ? 'on' : 'off'} (DATABASE_PREPARED_STATEMENTS=${config.DATABASE_PREPARED_STATEMENTS})`);
  return profile;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
