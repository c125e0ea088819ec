import type { ClientConfig, Pool } from 'pg';
import type { CacheHooks } from '../cache/cache-hooks';
import type { CacheLogger } from '../cache/cache-logger';
import type { CacheSettings } from '../cache/cache-settings';
import type { MaintenanceOptions } from './scheduled-maintenance';
import type { ExerciseSchemaOptions } from '../quality/schemas/schema-registry-of-options';

/** How the cache behaves; every field is optional (defaults in DEFAULT_CACHE_SETTINGS). */
/**
 * Schemas (at most one of `schemas`, `exerciseSchemas`, `schemasDir`): every write of a type that
 * has one is checked, and getOrGenerate retries generate() results that break it.
 */
export interface ExerciseCacheOptions extends Partial<CacheSettings>, ExerciseSchemaOptions {
  /** Where warnings go (default: console.warn / console.error); false: nowhere. */
  logger?: CacheLogger | false;
  /** Callbacks for metrics (lookups, writes, generations...). */
  hooks?: CacheHooks;
  /**
   * Connection settings for the cache's own sessions (the LISTEN session that keeps every
   * process's L1 coherent, the generation locks). Default: the pool's settings. Set it when the
   * pool goes through PgBouncer in transaction mode: these sessions must reach PostgreSQL directly.
   */
  session?: ClientConfig;
  /** A pool of such direct sessions for the generation locks (never ended by the cache); default: the cache opens its own. */
  sessionPool?: Pool;
  /**
   * Scheduled maintenance (default off): cleanup of expired entries, LRU eviction down to
   * maxEntries and the daily metrics refresh, each on its interval (true: hourly), once across
   * every process on the database, recorded in exercise_cache_maintenance_runs. close() stops it,
   * waiting for a run under way.
   */
  maintenance?: boolean | MaintenanceOptions;
}

/** Where the cache's data lives: a pool of yours, or a URL (then the cache owns its pool). */
export interface ExerciseCacheConnection {
  /** A `pg` Pool that the cache uses and never ends. */
  pool?: Pool;
  /** A PostgreSQL URL: the cache opens a pool of its own and ends it at close(). */
  databaseUrl?: string;
  /** Connections of that own pool (default 10). */
  poolSize?: number;
  /** statement_timeout of that own pool, in ms (default 5000). */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL schema that holds the cache (default public), as given to migrate({ schema }).
   * Every query names it, so it is reached whatever the pool's search_path.
   */
  schema?: string;
}

export type ExerciseCacheConfig = ExerciseCacheOptions & ExerciseCacheConnection;
