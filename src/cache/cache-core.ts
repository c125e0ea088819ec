import { ClientConfig, Pool } from 'pg';
import { CacheSqlNames, cacheSqlNames } from '../database/sql-names';
import { ExerciseSchemaRegistry } from '../quality/schemas/exercise-schema-registry';
import type { CacheHooks } from './cache-hooks';
import { CacheInvalidationService } from './cache-invalidation.service';
import { CacheLogger, consoleCacheLogger, scopedLogger } from './cache-logger';
import { CacheMaintenanceService } from './cache-maintenance.service';
import type { CacheSettings } from './cache-settings';
import { BackgroundRefresher } from './background-refresher';
import { CacheStatisticsRepository } from './cache-statistics.repository';
import { CacheStatisticsService } from './cache-statistics.service';
import { OutcomeStatisticsRepository } from './outcome-statistics.repository';
import { ExerciseCacheRepository } from './exercise-cache.repository';
import { ExerciseCacheService } from './exercise-cache.service';
import { ExerciseTransferRepository } from './exercise-transfer.repository';
import { ExerciseLookupService } from './exercise-lookup.service';
import { ExerciseStoreService } from './exercise-store.service';
import { GetOrGenerateService } from './get-or-generate.service';
import { GenerationLock } from './generation-lock';
import { InvalidationBus } from './invalidation-bus';
import { L1Cache } from './l1-cache';
import { LeaseRepository } from './lease.repository';
import { UsageBuffer } from './usage-buffer';
import { VariantPicker } from './variant-picker';

export interface CacheCoreOptions {
  /** Serves every query; the core never ends it. */
  pool: Pool;
  settings: CacheSettings;
  logger?: CacheLogger;
  hooks?: CacheHooks;
  /** JSON Schemas per exercise type, checked on every write; default: none. */
  schemas?: ExerciseSchemaRegistry;
  /**
   * How the core opens sessions of its own (the LISTEN session; the generation-lock pool when
   * `sessionPool` is not given). They must reach PostgreSQL directly (not PgBouncer in
   * transaction mode). Default: the pool's own connection settings.
   */
  session?: ClientConfig;
  /** A pool of direct sessions for generation locks; the core never ends it. Default: one of its own. */
  sessionPool?: Pool;
  /** PostgreSQL schema that holds the cache's tables (default public): every query names it. */
  schema?: string;
}

/**
 * The composition root of the cache, without any framework: builds every part on one pg pool,
 * starts what runs in the background and stops it again. The package (createExerciseCacheDB) and
 * the Nest module (ExerciseCacheModule) both build exactly this.
 */
export class CacheCore {
  /** Schema-qualified names of the cache's objects, for every query of this instance. */
  readonly names: CacheSqlNames;
  readonly repository: ExerciseCacheRepository;
  readonly statisticsRepository: CacheStatisticsRepository;
  /** The CLI's export and import queries. */
  readonly transfer: ExerciseTransferRepository;
  readonly l1: L1Cache;
  readonly usage: UsageBuffer;
  readonly bus: InvalidationBus;
  readonly lock: GenerationLock;
  readonly variants: VariantPicker;
  readonly lookup: ExerciseLookupService;
  readonly store: ExerciseStoreService;
  readonly generation: GetOrGenerateService;
  readonly statistics: CacheStatisticsService;
  readonly invalidation: CacheInvalidationService;
  readonly maintenance: CacheMaintenanceService;
  /** All of the above behind one class: what the package's users get. */
  readonly service: ExerciseCacheService;
  /** Stale-while-revalidate's background refreshes. */
  readonly refresher: BackgroundRefresher;
  /** Where generation locks are held. */
  readonly sessionPool: Pool;
  private readonly ownSessionPool?: Pool;
  private started?: Promise<void>;
  private closed?: Promise<void>;
  private readonly logger: CacheLogger;

  constructor(options: CacheCoreOptions) {
    const { pool, settings } = options;
    const logger = (this.logger = options.logger ?? consoleCacheLogger);
    const hooks = options.hooks ?? {};
    const session = options.session ?? sessionConfigOf(pool);
    this.names = cacheSqlNames(options.schema);
    this.repository = new ExerciseCacheRepository(pool, this.names);
    this.statisticsRepository = new CacheStatisticsRepository(pool, this.names);
    this.transfer = new ExerciseTransferRepository(pool, this.names);
    this.l1 = new L1Cache(settings, hooks);
    this.usage = new UsageBuffer(this.repository, settings, hooks, logger);
    this.bus = new InvalidationBus(pool, this.l1, session, logger);
    if (options.sessionPool) {
      this.sessionPool = options.sessionPool;
    } else {
      this.sessionPool = this.ownSessionPool = new Pool({
        ...session,
        max: settings.lockPoolSize,
        connectionTimeoutMillis: settings.connectTimeoutMs,
        idleTimeoutMillis: 10000,
        application_name: 'exercise-cache-locks',
      });
      this.ownSessionPool.on('error', (error) => logger.warn(`idle lock connection lost: ${error.message}`, GenerationLock.name));
    }
    this.lock = new GenerationLock(this.sessionPool, settings, logger);
    this.variants = new VariantPicker(this.repository, this.usage);
    this.lookup = new ExerciseLookupService(this.repository, settings, this.l1, this.usage, this.variants);
    this.maintenance = new CacheMaintenanceService(this.repository, this.statisticsRepository, settings, this.l1, this.usage, this.bus, hooks);
    const schemas = options.schemas ?? ExerciseSchemaRegistry.empty();
    this.store = new ExerciseStoreService(this.repository, settings, this.l1, this.bus, this.variants, this.maintenance, schemas, hooks, scopedLogger(logger, ExerciseStoreService.name));
    this.refresher = new BackgroundRefresher(new LeaseRepository(pool, this.names), hooks, scopedLogger(logger, BackgroundRefresher.name));
    this.generation = new GetOrGenerateService(
      this.lookup, this.store, this.repository, settings, this.usage, this.lock, hooks, scopedLogger(logger, GetOrGenerateService.name), this.refresher,
    );
    this.statistics = new CacheStatisticsService(this.statisticsRepository, new OutcomeStatisticsRepository(pool, this.names), this.usage);
    this.invalidation = new CacheInvalidationService(this.repository, this.l1, this.bus, hooks);
    this.service = new ExerciseCacheService(this);
  }

  /** Starts the usage flush timer and the LISTEN session; resolves once listening (or retrying). Idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      this.usage.start();
      await this.bus.start();
    })();
    return this.started;
  }

  /**
   * Writes buffered counters, then stops the timer, the LISTEN session and the lock pool it
   * opened. The caller's pools stay open (the query pool must still be open here). Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      // Refreshes under way store their exercise while the pools are still open.
      await this.refresher.close(REFRESH_DRAIN_MS);
      this.usage.stop();
      await this.usage.flush().catch((error: Error) => this.logger.error(`buffered usage could not be written at close: ${error.message}`, CacheCore.name));
      await this.bus.stop();
      if (this.ownSessionPool && !this.ownSessionPool.ended) await this.ownSessionPool.end().catch(() => undefined);
    })();
    return this.closed;
  }
}

/** How long close() waits for background refreshes under way before abandoning them. */
const REFRESH_DRAIN_MS = 10_000;

/** Pool-only and per-statement settings that a lock or LISTEN session must not inherit. */
const NOT_FOR_SESSIONS = ['max', 'min', 'idleTimeoutMillis', 'maxUses', 'maxLifetimeSeconds', 'allowExitOnIdle', 'statement_timeout', 'query_timeout', 'Client', 'log'];

/** The connection settings of a pg pool, for sessions of the cache's own on the same server. */
export function sessionConfigOf(pool: Pool): ClientConfig {
  const config: Record<string, unknown> = { ...(pool.options as unknown as Record<string, unknown>) };
  for (const name of NOT_FOR_SESSIONS) delete config[name];
  return config as ClientConfig;
}
