import type { CacheSettings } from '../cache/cache-settings';
import type { AppConfig } from './app-config';

/** The cache core's settings as the service's environment configures them. */
export function cacheSettingsOf(config: AppConfig): CacheSettings {
  return {
    defaultTtlSeconds: config.CACHE_DEFAULT_TTL_SECONDS,
    defaultGenerationCost: config.CACHE_DEFAULT_GENERATION_COST,
    maxEntries: config.MAX_ENTRIES,
    variantsPerContext: config.VARIANTS_PER_CONTEXT,
    evictEveryWrites: config.EVICT_EVERY_WRITES,
    l1Enabled: config.L1_ENABLED,
    l1MaxEntries: config.L1_MAX_ENTRIES,
    l1MaxBytes: config.L1_MAX_BYTES,
    usageFlushIntervalMs: config.USAGE_FLUSH_INTERVAL_MS,
    usageFlushMaxEvents: config.USAGE_FLUSH_MAX_EVENTS,
    usageBufferMaxRows: config.USAGE_BUFFER_MAX_ROWS,
    singleFlightWaitMs: config.SINGLE_FLIGHT_WAIT_MS,
    // Half the main pool: waiting generations must never take every connection.
    lockPoolSize: Math.max(2, Math.ceil(config.DATABASE_POOL_SIZE / 2)),
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    staleIfErrorSeconds: config.STALE_IF_ERROR_SECONDS,
    staleWhileRevalidateSeconds: config.STALE_WHILE_REVALIDATE_SECONDS,
  };
}
