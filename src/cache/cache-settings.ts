import { MAX_ENTRIES_LIMIT, MAX_GENERATION_COST, MAX_TTL_SECONDS, MAX_VARIANTS } from './context-rules';

/**
 * The tuning of the cache core. The HTTP service derives it from its environment configuration
 * (src/config/cache-settings.ts); the package takes the same names as options.
 */
export interface CacheSettings {
  /** Lifetime of a stored exercise unless set() says otherwise (1..2,592,000 seconds). */
  defaultTtlSeconds: number;
  /** Dollars one generation costs, unless set() says otherwise; counted as saved on every hit. */
  defaultGenerationCost: number;
  /** LRU eviction keeps at most this many entries. */
  maxEntries: number;
  /** Exercises kept per context (1..20). */
  variantsPerContext: number;
  /** Evict after every this many writes in this process, between scheduled evictions (0: never). */
  evictEveryWrites: number;
  /** In-process cache in front of PostgreSQL, kept coherent across processes by LISTEN/NOTIFY. */
  l1Enabled: boolean;
  l1MaxEntries: number;
  l1MaxBytes: number;
  /** Usage and hit/miss counters are written in one statement at this interval... */
  usageFlushIntervalMs: number;
  /** ...or after this many events, whichever comes first. */
  usageFlushMaxEvents: number;
  /** At most this many rows (keys plus day/type/difficulty outcomes) wait unwritten; beyond, lookups go uncounted. */
  usageBufferMaxRows: number;
  /** How long a caller waits for another process generating the same exercise (0: do not wait). */
  singleFlightWaitMs: number;
  /** Connections of the pool that holds generation locks (a pool of the cache's own). */
  lockPoolSize: number;
  /** Connect timeout of the cache's own sessions (LISTEN, generation locks). */
  connectTimeoutMs: number;
  /**
   * When generate() fails or runs past generateTimeoutMs, getOrGenerate serves an entry that
   * expired at most this many seconds ago (or one of another generator version) instead of the
   * error (0: never).
   */
  staleIfErrorSeconds: number;
  /**
   * Stale-while-revalidate window of entries written without their own: past expires_at and
   * within it, a lookup serves the entry as stale and getOrGenerate regenerates it once in the
   * background (0: never).
   */
  staleWhileRevalidateSeconds: number;
}

export const DEFAULT_CACHE_SETTINGS: Readonly<CacheSettings> = Object.freeze({
  defaultTtlSeconds: 86400,
  defaultGenerationCost: 0.003,
  maxEntries: 10000,
  variantsPerContext: 1,
  evictEveryWrites: 1000,
  l1Enabled: true,
  l1MaxEntries: 10000,
  l1MaxBytes: 64 * 1024 * 1024,
  usageFlushIntervalMs: 1000,
  usageFlushMaxEvents: 1000,
  usageBufferMaxRows: 100_000,
  singleFlightWaitMs: 30000,
  lockPoolSize: 5,
  connectTimeoutMs: 2000,
  staleIfErrorSeconds: 0,
  staleWhileRevalidateSeconds: 0,
});

type NumericSetting = Exclude<keyof CacheSettings, 'l1Enabled'>;

/** Allowed range of each numeric setting: the limits the service's environment variables have. */
const RANGES: Record<NumericSetting, { min: number; max: number; integer: boolean }> = {
  defaultTtlSeconds: { min: 1, max: MAX_TTL_SECONDS, integer: true },
  defaultGenerationCost: { min: 0, max: MAX_GENERATION_COST, integer: false },
  maxEntries: { min: 1, max: MAX_ENTRIES_LIMIT, integer: true },
  variantsPerContext: { min: 1, max: MAX_VARIANTS, integer: true },
  evictEveryWrites: { min: 0, max: 10_000_000, integer: true },
  l1MaxEntries: { min: 1, max: 10_000_000, integer: true },
  l1MaxBytes: { min: 1024, max: 8 * 1024 * 1024 * 1024, integer: true },
  usageFlushIntervalMs: { min: 10, max: 60000, integer: true },
  usageFlushMaxEvents: { min: 1, max: 1_000_000, integer: true },
  usageBufferMaxRows: { min: 2, max: 10_000_000, integer: true },
  singleFlightWaitMs: { min: 0, max: 600000, integer: true },
  lockPoolSize: { min: 1, max: 200, integer: true },
  connectTimeoutMs: { min: 100, max: 600000, integer: true },
  staleIfErrorSeconds: { min: 0, max: MAX_TTL_SECONDS, integer: true },
  staleWhileRevalidateSeconds: { min: 0, max: MAX_TTL_SECONDS, integer: true },
};

/**
 * The defaults overlaid with `given`; a value out of range throws `invalid(message)` naming the
 * option, so a mistake surfaces when the cache is created, not on the first lookup.
 */
export function resolveCacheSettings(given: Partial<CacheSettings>, invalid: (message: string) => Error): CacheSettings {
  const settings: CacheSettings = { ...DEFAULT_CACHE_SETTINGS };
  for (const [name, value] of Object.entries(given) as [keyof CacheSettings, unknown][]) {
    if (value === undefined) continue;
    if (name === 'l1Enabled') {
      if (typeof value !== 'boolean') throw invalid('l1Enabled must be true or false');
      settings.l1Enabled = value;
      continue;
    }
    const range = RANGES[name as NumericSetting] as (typeof RANGES)[NumericSetting] | undefined;
    if (!range) throw invalid(`${name} is not an option of exercise-cache`);
    if (typeof value !== 'number' || !Number.isFinite(value) || (range.integer && !Number.isInteger(value)) || value < range.min || value > range.max) {
      throw invalid(`${name} must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`);
    }
    settings[name] = value;
  }
  return settings;
}
