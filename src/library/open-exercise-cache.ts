import { Pool } from 'pg';
import { CacheCore } from '../cache/cache-core';
import { CacheLogger, consoleCacheLogger, silentCacheLogger } from '../cache/cache-logger';
import { CacheSettings, resolveCacheSettings } from '../cache/cache-settings';
import { InvalidCacheRequestError } from '../cache/context-rules';
import { schemaNameProblem } from '../database/database-schema';
import { schemaRegistryOf } from '../quality/schemas/schema-registry-of-options';
import type { ExerciseCacheConfig } from './exercise-cache-options';
import { ScheduledMaintenance, resolveMaintenanceOption } from './scheduled-maintenance';

/** A running cache: its core, the pool it queries, and whether closing it ends that pool. */
export interface OpenedExerciseCache {
  core: CacheCore;
  pool: Pool;
  settings: CacheSettings;
  logger: CacheLogger;
  /** The scheduled maintenance, when the `maintenance` option turned it on. */
  maintenance: ScheduledMaintenance | null;
  start(): Promise<void>;
  close(): Promise<void>;
}

const CONNECTION_FIELDS = new Set(['pool', 'databaseUrl', 'poolSize', 'statementTimeoutMs', 'logger', 'hooks', 'session', 'sessionPool', 'schemas', 'exerciseSchemas', 'schemasDir', 'schema', 'maintenance']);

/**
 * Builds a cache from the package's options: validates them (InvalidCacheRequestError naming the
 * option), opens a pool for a databaseUrl, and assembles the core. Shared by createExerciseCacheDB,
 * createExerciseCache and ExerciseCacheModule, so every way in behaves alike.
 */
export function openExerciseCache(config: ExerciseCacheConfig, defaultLogger: CacheLogger = consoleCacheLogger): OpenedExerciseCache {
  if (!config || typeof config !== 'object') throw new InvalidCacheRequestError('options must be an object');
  const logger = config.logger === false ? silentCacheLogger : (config.logger ?? defaultLogger);
  const schemaProblem = config.schema === undefined ? null : schemaNameProblem(config.schema);
  if (schemaProblem) throw new InvalidCacheRequestError(`schema ${schemaProblem}`);
  const settings = resolveCacheSettings(settingsPart(config), (message) => new InvalidCacheRequestError(message));
  const maintenanceIntervals = resolveMaintenanceOption(config.maintenance);
  // Compiled once, before any pool is opened: a broken schema leaves nothing behind.
  const schemas = schemaRegistryOf(config);
  let pool: Pool;
  let ownsPool = false;
  if (config.pool !== undefined) {
    if (config.databaseUrl !== undefined) throw new InvalidCacheRequestError('databaseUrl must not be given together with pool');
    if (!isPool(config.pool)) throw new InvalidCacheRequestError('pool must be a pg Pool');
    pool = config.pool;
  } else {
    if (typeof config.databaseUrl !== 'string' || !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
      throw new InvalidCacheRequestError('databaseUrl must be a postgresql:// URL (or pass pool: a pg Pool)');
    }
    assertOptionalInteger(config.poolSize, 'poolSize', 1, 200);
    assertOptionalInteger(config.statementTimeoutMs, 'statementTimeoutMs', 100, 600000);
    pool = new Pool({
      connectionString: config.databaseUrl,
      max: config.poolSize ?? 10,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      statement_timeout: config.statementTimeoutMs ?? 5000,
      query_timeout: (config.statementTimeoutMs ?? 5000) + 1000,
      idleTimeoutMillis: 30000,
      application_name: 'exercise-cache',
    });
    // An idle connection that the server drops (restart, outage) must not crash the process.
    pool.on('error', (error) => logger.warn(`idle database connection lost: ${error.message}`, 'ExerciseCache'));
    ownsPool = true;
  }
  const core = new CacheCore({ pool, settings, logger, hooks: config.hooks, session: config.session, sessionPool: config.sessionPool, schemas, schema: config.schema });
  const maintenance = maintenanceIntervals && new ScheduledMaintenance(core, pool, settings.maxEntries, maintenanceIntervals, logger);
  let starting: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  return {
    core,
    pool,
    settings,
    logger,
    maintenance,
    start: () =>
      (starting ??= core.start().then(() => {
        if (!closing) maintenance?.start();
      })),
    close: () =>
      (closing ??= (async () => {
        // No new runs; one under way finishes and records itself while the pools are still open.
        await maintenance?.stop();
        await core.close();
        if (ownsPool && !pool.ended) await pool.end();
      })()),
  };
}

function settingsPart(config: ExerciseCacheConfig): Partial<CacheSettings> {
  const part: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    if (!CONNECTION_FIELDS.has(name)) part[name] = value;
  }
  return part as Partial<CacheSettings>;
}

function isPool(value: unknown): value is Pool {
  const candidate = value as Pool | null;
  return !!candidate && typeof candidate.query === 'function' && typeof candidate.connect === 'function' && typeof candidate.options === 'object';
}

function assertOptionalInteger(value: unknown, name: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new InvalidCacheRequestError(`${name} must be an integer from ${min} to ${max}`);
  }
}
