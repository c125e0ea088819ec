import type { Pool } from 'pg';
import { InvalidCacheRequestError } from '../cache/context-rules';

export interface MigrateConfig {
  /** A PostgreSQL URL... */
  databaseUrl?: string;
  /** ...or your pg Pool (one of its connections holds the migration lock; it is never ended). */
  pool?: Pool;
  /** The PostgreSQL schema that holds every object of the cache and its migration records (default public). */
  schema?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/**
 * Applies the cache's pending migrations (tables, functions, views), as `npx exercise-cache
 * migrate` does. Safe to run at every start and from several processes at once (they take turns
 * on an advisory lock); resolves to the names of the migrations it applied.
 */
export async function migrate(config: MigrateConfig): Promise<string[]> {
  if (!config || typeof config !== 'object') throw new InvalidCacheRequestError('options must be an object');
  const { databaseUrl, pool } = config;
  if ((databaseUrl === undefined) === (pool === undefined)) throw new InvalidCacheRequestError('databaseUrl or pool must be given (one of them)');
  if (databaseUrl !== undefined && (typeof databaseUrl !== 'string' || !/^postgres(ql)?:\/\//.test(databaseUrl))) {
    throw new InvalidCacheRequestError('databaseUrl must be a postgresql:// URL');
  }
  // Loaded on first use: the migration runner brings Prisma's schema engine (WebAssembly), which
  // an application that only reads and writes the cache never needs to load.
  const { applyMigrations } = await import('../database/migrations');
  return applyMigrations((databaseUrl ?? pool) as string | Pool, { schema: config.schema, log: config.log });
}
