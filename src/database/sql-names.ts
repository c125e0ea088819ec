import { createHash } from 'node:crypto';
import { DEFAULT_SCHEMA, assertSchemaName, qualifiedName } from './database-schema';

/**
 * Quoted, schema-qualified names of every object runtime SQL reaches, built once per cache
 * instance. Qualified names reach the cache's schema whatever the connection's search_path: a
 * caller's own pg Pool, or a transaction-mode pooler that refuses `options=-c search_path`.
 */
export interface CacheSqlNames {
  readonly schema: string;
  readonly exerciseCache: string;
  readonly lookupStats: string;
  readonly maintenanceRuns: string;
  readonly reports: string;
  readonly leases: string;
  readonly migrations: string;
  readonly dailyMetrics: string;
  readonly statsView: string;
  readonly overviewView: string;
  readonly expiredView: string;
  readonly cleanupExpired: string;
  readonly evictLru: string;
  readonly exerciseCacheStats: string;
  readonly overallCacheStats: string;
  readonly popularExercises: string;
  readonly lruExercises: string;
  readonly refreshMetrics: string;
  /**
   * A named prepared statement's name for this schema: two caches in two schemas on one pool
   * must not share a statement, whose plan is bound to one schema's tables. PostgreSQL keeps 63
   * bytes of a name, so the schema enters as a short hash; public keeps the plain name.
   */
  statement(name: string): string;
}

export function cacheSqlNames(schema: string = DEFAULT_SCHEMA): CacheSqlNames {
  assertSchemaName(schema);
  const q = (name: string) => qualifiedName(schema, name);
  const suffix = schema === DEFAULT_SCHEMA ? '' : `_${createHash('sha256').update(schema).digest('hex').slice(0, 8)}`;
  return Object.freeze({
    schema,
    exerciseCache: q('exercise_cache'),
    lookupStats: q('exercise_cache_lookup_stats'),
    maintenanceRuns: q('exercise_cache_maintenance_runs'),
    reports: q('exercise_cache_reports'),
    leases: q('exercise_cache_leases'),
    migrations: q('_prisma_migrations'),
    dailyMetrics: q('exercise_cache_daily_metrics'),
    statsView: q('exercise_cache_stats'),
    overviewView: q('exercise_cache_overview'),
    expiredView: q('expired_exercises'),
    cleanupExpired: q('cleanup_expired_exercises'),
    evictLru: q('evict_lru_exercises'),
    exerciseCacheStats: q('get_exercise_cache_stats'),
    overallCacheStats: q('get_overall_cache_stats'),
    popularExercises: q('get_popular_exercises'),
    lruExercises: q('get_lru_exercises'),
    refreshMetrics: q('refresh_exercise_cache_metrics'),
    statement: (name: string) => `${name}${suffix}`,
  });
}
