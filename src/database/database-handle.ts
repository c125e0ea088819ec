import type { AppConfig } from '../config/app-config';
import { EmbeddedPostgres } from './embedded-postgres';
import { applyMigrations } from './migrations';

/** Which PostgreSQL the process uses, and the embedded server when it started one. */
export interface DatabaseHandle {
  url: string;
  /** PostgreSQL schema of the cache's objects (DATABASE_SCHEMA); public when unset. */
  schema?: string;
  embedded?: EmbeddedPostgres;
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
    handle = { url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA };
  } else {
    const embedded = await EmbeddedPostgres.start({ dataDir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, log });
    log(`DATABASE_URL is unset: using embedded PostgreSQL on 127.0.0.1:${embedded.port}, data in ${embedded.dataDir}`);
    handle = { url: embedded.url, schema: config.DATABASE_SCHEMA, embedded };
  }
  if (options.migrate) {
    try {
      const applied = await applyMigrations(handle.url, { schema: handle.schema, log });
      log(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'migrations: database is up to date');
    } catch (error) {
      await handle.embedded?.stop();
      throw error;
    }
  }
  return handle;
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
