import { isStorageUnavailable } from '../common/storage-unavailable';
import { ExerciseSchemaViolationError } from '../quality/schemas/exercise-schema.errors';
import { ExerciseSchemaRegistry } from '../quality/schemas/exercise-schema-registry';
import type { CacheHooks } from './cache-hooks';
import { CacheLogger, ScopedLogger, consoleCacheLogger, scopedLogger } from './cache-logger';
import type { CacheSettings } from './cache-settings';
import { CACHE_KEY_PATTERN, CanonicalContext, ExerciseContext, cacheKeyFor, canonicalize, keyOfCanonical, userContextHashFor } from './cache-key';
import { CachedEntry, EntryToStore, isOfVersion } from './cache-entry';
import {
  InvalidCacheRequestError,
  MAX_TTL_SECONDS,
  MAX_VARIANTS,
  assertIntegerInRange,
  assertValidContext,
  assertValidExercise,
  assertValidKeys,
  assertValidGeneratorVersion,
  assertValidNamespace,
} from './context-rules';
import { ExerciseCacheRepository } from './exercise-cache.repository';
import { GenerationLock } from './generation-lock';
import { InvalidationBus } from './invalidation-bus';
import { L1Cache } from './l1-cache';
import { SingleFlight } from './single-flight';
import { UsageBuffer } from './usage-buffer';
import { VariantPicker } from './variant-picker';

export type Exercise = Record<string, unknown>;

export interface StoreOptions {
  /** 1..2,592,000 seconds; default defaultTtlSeconds. */
  ttlSeconds?: number;
  /** Dollars the generation cost; default defaultGenerationCost. */
  generationCost?: number;
  generationTimeMs?: number;
  /** Bucket size for this context (1..20); default variantsPerContext. */
  variants?: number;
  /** The generator (prompt, model) version that wrote it: 1..100 printable ASCII characters. */
  generatorVersion?: string;
}

export interface LookupOptions {
  /** Bucket size for this context (1..20); default variantsPerContext. */
  variants?: number;
  /** Only entries written with this generator version are fresh; others are a miss. */
  generatorVersion?: string;
  /** Cache-Control no-cache: do not answer from a stored entry (a miss; getOrGenerate generates anew). */
  noCache?: boolean;
  /** Cache-Control max-age: only an entry stored at most this many seconds ago answers (0..2,592,000). */
  maxAgeSeconds?: number;
  /** Keys this learner has already seen (at most 100). */
  exclude?: readonly string[];
}

export interface GetOrGenerateOptions extends StoreOptions, LookupOptions {
  /** Serve a live entry sharing at least minOverlap topics instead of generating. */
  acceptNearMiss?: { minOverlap: number };
  /** Calls of generate() (1..10) while it returns exercises that break the type's schema; default 2. */
  generateAttempts?: number;
  /**
   * When generate() throws or runs past generateTimeoutMs: serve the entry of this context that
   * expired at most this many seconds ago, or one of another generator version, instead of the
   * error (0..2,592,000; default staleIfErrorSeconds of the settings, 0 = never).
   */
  staleIfErrorSeconds?: number;
  /** generate() running longer than this (1..3,600,000 ms) counts as failed; default: no limit. */
  generateTimeoutMs?: number;
}

/** Request directives of one lookup (RFC 9111 no-cache and max-age). */
interface LookupControl {
  noCache: boolean;
  maxAgeSeconds?: number;
}

export const DEFAULT_GENERATE_ATTEMPTS = 2;
export const MAX_GENERATE_ATTEMPTS = 10;

export interface StoredExercise {
  key: string;
  expiresAt: Date;
}

/** The parts a service works with; CacheCore (cache-core.ts) builds them. */
export interface ExerciseCacheParts {
  repository: ExerciseCacheRepository;
  settings: CacheSettings;
  l1: L1Cache;
  usage: UsageBuffer;
  bus: InvalidationBus;
  lock: GenerationLock;
  variants: VariantPicker;
  /** JSON Schemas per exercise type; default: none (any exercise object is accepted). */
  schemas?: ExerciseSchemaRegistry;
  hooks?: CacheHooks;
  logger?: CacheLogger;
}

/**
 * The exercise cache: look up, store, generate on a miss (once per key across callers and
 * replicas), statistics and maintenance. Framework-free: CacheCore assembles it, the package's
 * createExerciseCacheDB() wraps it, and ExerciseCacheModule (src/nest) provides it to Nest apps.
 */
export class ExerciseCacheService {
  private readonly logger: ScopedLogger;
  private readonly generations = new SingleFlight<{ exercise: Exercise; entry?: CachedEntry }>();
  private writesSinceEviction = 0;
  /** Uses counted for an entry snapshot (an L1 entry is served many times) before its next answer. */
  private readonly usesBeforeNext = new WeakMap<CachedEntry, number>();
  private evicting?: Promise<unknown>;
  private readonly repository: ExerciseCacheRepository;
  private readonly settings: CacheSettings;
  private readonly l1: L1Cache;
  private readonly usage: UsageBuffer;
  private readonly bus: InvalidationBus;
  private readonly lock: GenerationLock;
  private readonly metrics: CacheHooks;
  private readonly variants: VariantPicker;
  private readonly schemas: ExerciseSchemaRegistry;

  constructor(parts: ExerciseCacheParts) {
    this.repository = parts.repository;
    this.settings = parts.settings;
    this.l1 = parts.l1;
    this.usage = parts.usage;
    this.bus = parts.bus;
    this.lock = parts.lock;
    this.variants = parts.variants;
    this.schemas = parts.schemas ?? ExerciseSchemaRegistry.empty();
    this.metrics = parts.hooks ?? {};
    this.logger = scopedLogger(parts.logger ?? consoleCacheLogger, ExerciseCacheService.name);
  }

  /** The cached exercise for a context, or null (and the lookup counts as a miss). */
  async get(context: ExerciseContext, options: LookupOptions = {}): Promise<Exercise | null> {
    return (await this.lookup(context, options))?.exercise ?? null;
  }

  /** Like get(), with the entry's key, timestamps and usage. */
  async lookup(context: ExerciseContext, options: LookupOptions = {}): Promise<CachedEntry | null> {
    const { canonical, bucket, exclude, version, control } = this.prepareLookup(context, options);
    const entry = await this.findServable(canonical, bucket, exclude, version, control);
    if (entry) return this.serveHit(entry);
    this.usage.recordMiss(canonical.type, canonical.difficulty);
    return null;
  }

  /** The live entry with this key, or null; a hit counts for its type (a miss has no known type, so it is not counted). */
  async getByKey(key: string): Promise<CachedEntry | null> {
    if (!CACHE_KEY_PATTERN.test(key)) throw new InvalidCacheRequestError('key must be 64 lowercase hex characters');
    const entry = await this.findLiveByKey(key);
    return entry ? this.serveHit(entry) : null;
  }

  /** Stores an exercise; with variants > 1 as a new variant while the bucket has room. */
  /**
   * Every check set() makes, without storing (Cache-Control: no-store): the key the exercise would
   * be stored under (variant 1) and when it would expire.
   */
  validateStore(context: ExerciseContext, exercise: Exercise, options: StoreOptions = {}): StoredExercise {
    assertValidContext(context);
    assertValidExercise(exercise);
    this.assertMatchesSchema(context.type, exercise, 'write');
    this.assertValidStoreOptions(options);
    const ttlSeconds = options.ttlSeconds ?? this.settings.defaultTtlSeconds;
    return { key: keyOfCanonical(canonicalize(context), 1), expiresAt: new Date(Date.now() + ttlSeconds * 1000) };
  }

  async set(context: ExerciseContext, exercise: Exercise, options: StoreOptions = {}): Promise<StoredExercise> {
    assertValidContext(context);
    assertValidExercise(exercise);
    this.assertMatchesSchema(context.type, exercise, 'write');
    this.assertValidStoreOptions(options);
    const canonical = canonicalize(context);
    const bucket = options.variants ?? this.settings.variantsPerContext;
    if (bucket === 1) return this.store(canonical, 1, exercise, options);
    // Choosing the slot and writing it happen under a lock on the context, so concurrent POSTs
    // fill different free slots instead of overwriting each other.
    const stored = await this.repository.withContextLock(keyOfCanonical(canonical, 1), async (db) => {
      const slot = await this.variants.slotForNewVariant(canonical, bucket, [], db, options.generatorVersion);
      return this.repository.upsert(this.entryToStore(canonical, slot, exercise, options), db);
    });
    await this.afterWrite(canonical, stored.key);
    return stored;
  }

  /**
   * Stores an exercise as exactly this variant of its context, replacing what that slot held.
   * Restoring an export uses it: the same line always lands on the same key, so importing a file
   * twice replaces entries instead of adding variants.
   */
  async setVariant(context: ExerciseContext, variant: number, exercise: Exercise, options: StoreOptions = {}): Promise<StoredExercise> {
    assertValidContext(context);
    assertValidExercise(exercise);
    this.assertMatchesSchema(context.type, exercise, 'write');
    this.assertValidStoreOptions(options);
    assertIntegerInRange(variant, 'variant', 1, MAX_VARIANTS);
    return this.store(canonicalize(context), variant, exercise, options);
  }

  /**
   * The guide's usage pattern in one call: a cached exercise when there is one, otherwise
   * generate() once, however many callers (in this process or on other replicas) miss the same
   * key at the same time, store it and return it. If generate() throws, every waiting caller gets
   * the error and nothing is stored. When PostgreSQL is down the exercise is still generated and
   * returned; it is just not cached.
   */
  async getOrGenerate(
    context: ExerciseContext,
    generate: (context: CanonicalContext) => Promise<Exercise>,
    options: GetOrGenerateOptions = {},
  ): Promise<Exercise> {
    const { canonical, bucket, exclude, version, control } = this.prepareLookup(context, options);
    this.assertValidStoreOptions(options);
    const calledAt = Date.now();
    assertIntegerInRange(options.generateAttempts, 'generateAttempts', 1, MAX_GENERATE_ATTEMPTS);
    assertIntegerInRange(options.staleIfErrorSeconds, 'staleIfErrorSeconds', 0, MAX_TTL_SECONDS);
    assertIntegerInRange(options.generateTimeoutMs, 'generateTimeoutMs', 1, 3_600_000);
    let slot = 1;
    try {
      const entry = await this.findServable(canonical, bucket, exclude, version, control);
      if (entry) {
        this.usage.recordHit(entry);
        return entry.exercise;
      }
      if (options.acceptNearMiss) {
        // Enough candidates that one is left when the learner has seen (excluded) the best ones.
        const candidates = await this.findByTopics(context, { minOverlap: options.acceptNearMiss.minOverlap, limit: Math.min(100, exclude.size + 1) });
        const near = candidates.find((entry) => !exclude.has(entry.key));
        if (near) {
          this.usage.recordHit(near, 'near_hit');
          return near.exercise;
        }
      }
      this.usage.recordMiss(canonical.type, canonical.difficulty);
      if (bucket > 1 || exclude.size > 0) slot = await this.variants.slotForNewVariant(canonical, bucket, exclude, undefined, version);
    } catch (error) {
      if (!isStorageUnavailable(error)) throw error;
      this.metrics.storageError?.('lookup');
      this.usage.recordMiss(canonical.type, canonical.difficulty);
      this.logger.warn(`cache storage unavailable, generating without the cache: ${(error as Error).message}`);
    }
    const key = keyOfCanonical(canonical, slot);
    const timeoutMs = options.generateTimeoutMs;
    const generateInTime = timeoutMs === undefined ? generate : (c: CanonicalContext) => withinTime(generate(c), timeoutMs);
    try {
      const result = await this.generations.run(key, () =>
        this.lock.withLock(key, async (outcome) => {
          if (outcome !== 'unavailable') {
            // Another caller may have stored this slot while we waited for the lock.
            const stored = await this.findLiveByKey(key).catch(() => null);
            // With no-cache only an exercise stored since this call began (a concurrent regeneration) will
            // do; a second of slack for the difference between the database clock and this one.
            const storedAt = stored?.createdAt.getTime() ?? 0;
            const recentEnough =
              (!control.noCache || storedAt >= calledAt - 1000) && (control.maxAgeSeconds === undefined || Date.now() - storedAt <= control.maxAgeSeconds * 1000);
            if (stored && recentEnough && !exclude.has(stored.key) && isOfVersion(stored, version)) return { exercise: stored.exercise, entry: stored };
          }
          return { exercise: await this.generateAndStore(canonical, slot, generateInTime, options) };
        }),
      );
      return result.exercise;
    } catch (error) {
      const stale = await this.staleAfterFailure(key, exclude, options.staleIfErrorSeconds ?? this.settings.staleIfErrorSeconds);
      if (!stale) throw error;
      const reason = error instanceof GenerateTimeoutError ? 'timeout' : 'error';
      this.metrics.staleServed?.(canonical.type, reason);
      this.logger.warn(`serving a stale ${canonical.type} exercise (key ${key}, expires ${stale.expiresAt.toISOString()}) because generating failed: ${(error as Error).message}`);
      return stale.exercise;
    }
  }

  /** Stale-if-error: the entry of this slot expired at most `windowSeconds` ago (or of another version), or null. */
  private async staleAfterFailure(key: string, exclude: ReadonlySet<string>, windowSeconds: number): Promise<CachedEntry | null> {
    if (windowSeconds <= 0 || exclude.has(key)) return null;
    return this.repository.findRecentByKey(key, windowSeconds).catch(() => null);
  }

  /** Live entries with the same difficulty and topics, of any type. */
  async findSimilar(context: ExerciseContext, limit = 10): Promise<CachedEntry[]> {
    assertValidContext(context);
    assertIntegerInRange(limit, 'limit', 1, 100);
    return this.repository.findSimilar(userContextHashFor(context), limit);
  }

  /** Near misses: live entries of the same type and difficulty whose topics overlap. */
  async findByTopics(
    context: ExerciseContext,
    { minOverlap = 1, limit = 10 }: { minOverlap?: number; limit?: number } = {},
  ): Promise<(CachedEntry & { overlap: number })[]> {
    assertValidContext(context);
    assertIntegerInRange(minOverlap, 'minOverlap', 1, 20);
    assertIntegerInRange(limit, 'limit', 1, 100);
    const canonical = canonicalize(context);
    if (canonical.topics.length === 0) return [];
    return this.repository.findByTopics(canonical.type, canonical.difficulty, canonical.topics, minOverlap, limit, canonical.namespace);
  }

  /** Removes one entry by key, or every variant of a context. Returns how many were removed. */
  async invalidate(keyOrContext: string | ExerciseContext): Promise<number> {
    let keys: string[];
    if (typeof keyOrContext === 'string') {
      if (!CACHE_KEY_PATTERN.test(keyOrContext)) throw new InvalidCacheRequestError('key must be 64 lowercase hex characters');
      keys = (await this.repository.deleteByKey(keyOrContext)) > 0 ? [keyOrContext] : [];
    } else {
      assertValidContext(keyOrContext);
      keys = await this.repository.deleteByContext(cacheKeyFor(keyOrContext, 1));
    }
    this.l1.delete(keys);
    if (keys.length > 0) await this.bus.publish({ keys });
    this.metrics.invalidated?.(keys.length);
    return keys.length;
  }

  /** Removes every entry of one namespace. Returns how many were removed. */
  async invalidateNamespace(namespace: string): Promise<number> {
    assertValidNamespace(namespace);
    const keys = await this.repository.deleteByNamespace(namespace);
    this.l1.delete(keys);
    if (keys.length > 0) await this.bus.publish({ keys });
    this.metrics.invalidated?.(keys.length);
    return keys.length;
  }

  /**
   * Retires old generator versions: removes every entry not written with `generatorVersion`
   * (in one namespace when given). Returns how many were removed.
   */
  async retireOtherVersions(generatorVersion: string, namespace?: string): Promise<number> {
    if (generatorVersion === undefined) throw new InvalidCacheRequestError('generatorVersion is required');
    assertValidGeneratorVersion(generatorVersion);
    if (namespace !== undefined) assertValidNamespace(namespace);
    const keys = await this.repository.deleteOtherVersions(generatorVersion, namespace);
    this.l1.delete(keys);
    if (keys.length > 0) await this.bus.publish({ keys }).catch(() => undefined);
    this.metrics.invalidated?.(keys.length);
    return keys.length;
  }

  /** Removes every entry. */
  async clear(): Promise<number> {
    const removed = await this.repository.deleteAll();
    this.l1.clear();
    await this.bus.publish({ all: true });
    this.metrics.invalidated?.(removed);
    return removed;
  }

  /** Overall statistics (exercise_cache_overview), including this replica's unflushed lookups. */
  async stats(): Promise<Record<string, unknown>> {
    await this.usage.flush();
    return this.repository.overallStats();
  }

  async statsByType(): Promise<Record<string, unknown>[]> {
    await this.usage.flush();
    return this.repository.statsByType();
  }

  /** Stored entries per namespace (name null: entries without one). */
  async statsByNamespace(): Promise<Record<string, unknown>[]> {
    await this.usage.flush();
    return this.repository.entriesBy('namespace');
  }

  /** Stored entries per generator version (name null: entries written without one). */
  async statsByGeneratorVersion(): Promise<Record<string, unknown>[]> {
    await this.usage.flush();
    return this.repository.entriesBy('generator_version');
  }

  async popular(limit = 10): Promise<Record<string, unknown>[]> {
    assertIntegerInRange(limit, 'limit', 1, 1000);
    await this.usage.flush();
    return this.repository.popular(limit);
  }

  async leastRecentlyUsed(limit = 10): Promise<Record<string, unknown>[]> {
    assertIntegerInRange(limit, 'limit', 1, 1000);
    await this.usage.flush();
    return this.repository.leastRecentlyUsed(limit);
  }

  /** Rows of exercise_cache_daily_metrics for the last `days` UTC days (as of its last refresh). */
  async dailyMetrics(days = 7): Promise<Record<string, unknown>[]> {
    assertIntegerInRange(days, 'days', 1, 3660);
    return this.repository.dailyMetrics(days);
  }

  async cleanupExpired(): Promise<number> {
    const deleted = await this.repository.cleanupExpired();
    this.metrics.expired?.(deleted);
    if (deleted > 0) await this.bus.publish({ all: true }).catch(() => undefined);
    return deleted;
  }

  async evictLeastRecentlyUsed(maxEntries = this.settings.maxEntries): Promise<number> {
    assertIntegerInRange(maxEntries, 'maxEntries', 0, 100_000_000);
    await this.usage.flush(); // recency must include the latest hits
    const deleted = await this.repository.evictLeastRecentlyUsed(maxEntries);
    this.metrics.evicted?.(deleted);
    if (deleted > 0) {
      this.l1.clear();
      await this.bus.publish({ all: true }).catch(() => undefined);
    }
    return deleted;
  }

  async refreshMetrics(): Promise<void> {
    await this.usage.flush();
    await this.repository.refreshMetrics();
  }

  /** Writes buffered usage and hit/miss counters now. */
  flushUsage(): Promise<void> {
    return this.usage.flush();
  }

  // For leases (LeaseCoordinator): a lease lookup decides its outcome (hit, coalesced, miss)
  // only after the lease step, so it looks up without counting and records the outcome once.

  /** lookup() without recording the outcome; the caller records it with recordLookup(). */
  async peek(context: ExerciseContext, options: LookupOptions = {}): Promise<{ entry: CachedEntry | null; canonical: CanonicalContext; bucket: number; exclude: Set<string>; version?: string }> {
    const prepared = this.prepareLookup(context, options);
    return { ...prepared, entry: await this.findServable(prepared.canonical, prepared.bucket, prepared.exclude, prepared.version, prepared.control) };
  }

  /** Counts a lookup made with peek(): a hit when it ended with an entry (returned as served, see serveHit), a miss otherwise. */
  recordLookup(canonical: CanonicalContext, entry: CachedEntry | null): CachedEntry | null {
    if (entry) return this.serveHit(entry);
    this.usage.recordMiss(canonical.type, canonical.difficulty);
    return null;
  }

  /**
   * Records a hit and returns the entry as served, with a current usageCount: the uses this replica
   * recorded before this one, written or still buffered. The stored count lags by the flush
   * interval, and an L1 entry keeps the count it was read with; uses served by other replicas
   * show once they are written and the entry is read from the database again.
   */
  private serveHit(entry: CachedEntry): CachedEntry {
    const usesBefore = this.usesBeforeNext.get(entry) ?? entry.usageCount + this.usage.pendingUses(entry.key);
    this.usesBeforeNext.set(entry, usesBefore + 1);
    this.usage.recordHit(entry);
    return usesBefore === entry.usageCount ? entry : { ...entry, usageCount: usesBefore };
  }

  /** The variant slot a new exercise for this missed lookup goes to (1 for a single-variant context). */
  slotForMiss(canonical: CanonicalContext, bucket: number, exclude: ReadonlySet<string>, version?: string): Promise<number> {
    return bucket > 1 || exclude.size > 0 ? this.variants.slotForNewVariant(canonical, bucket, exclude, undefined, version) : Promise.resolve(1);
  }

  /** The live entry stored under one key (through L1), or null. */
  findLive(key: string): Promise<CachedEntry | null> {
    return this.findLiveByKey(key);
  }

  /**
   * Stores an exercise into the slot `claimSlot` returns, in one transaction with it: a lease
   * holder's store checks its token and writes, or (the claim throws) writes nothing.
   */
  async storeClaimed(
    context: ExerciseContext,
    exercise: Exercise,
    options: StoreOptions,
    claimSlot: (db: Parameters<ExerciseCacheRepository['upsert']>[1], contextKey: string) => Promise<number>,
  ): Promise<StoredExercise> {
    assertValidContext(context);
    assertValidExercise(exercise);
    this.assertMatchesSchema(context.type, exercise, 'write');
    this.assertValidStoreOptions(options);
    const canonical = canonicalize(context);
    const contextKey = keyOfCanonical(canonical, 1);
    const stored = await this.repository.withContextLock(contextKey, async (db) => {
      const slot = await claimSlot(db, contextKey);
      return this.repository.upsert(this.entryToStore(canonical, slot, exercise, options), db);
    });
    await this.afterWrite(canonical, stored.key);
    return stored;
  }

  private prepareLookup(context: ExerciseContext, options: LookupOptions) {
    assertValidContext(context);
    assertIntegerInRange(options.variants, 'variants', 1, MAX_VARIANTS);
    assertValidKeys(options.exclude ?? []);
    assertValidGeneratorVersion(options.generatorVersion);
    assertIntegerInRange(options.maxAgeSeconds, 'maxAgeSeconds', 0, MAX_TTL_SECONDS);
    if (options.noCache !== undefined && typeof options.noCache !== 'boolean') throw new InvalidCacheRequestError('noCache must be true or false');
    return {
      canonical: canonicalize(context),
      bucket: options.variants ?? this.settings.variantsPerContext,
      exclude: new Set(options.exclude ?? []),
      version: options.generatorVersion,
      control: { noCache: options.noCache === true, maxAgeSeconds: options.maxAgeSeconds },
    };
  }

  private assertValidStoreOptions(options: StoreOptions): void {
    assertIntegerInRange(options.ttlSeconds, 'ttlSeconds', 1, MAX_TTL_SECONDS);
    assertIntegerInRange(options.variants, 'variants', 1, MAX_VARIANTS);
    if (options.generationCost !== undefined && !(Number.isFinite(options.generationCost) && options.generationCost >= 0 && options.generationCost <= 9999)) {
      throw new InvalidCacheRequestError('generationCost must be a number from 0 to 9999');
    }
    assertIntegerInRange(options.generationTimeMs, 'generationTimeMs', 0, 2_147_483_647);
    assertValidGeneratorVersion(options.generatorVersion);
  }

  /** One round trip at most: L1 first, then the single row (or the variants of the context). */
  private async findServable(canonical: CanonicalContext, bucket: number, exclude: Set<string>, version?: string, control?: LookupControl): Promise<CachedEntry | null> {
    if (control?.noCache) return null;
    let entry: CachedEntry | null;
    if (bucket === 1) {
      const key = keyOfCanonical(canonical, 1);
      if (exclude.has(key)) return null;
      entry = await this.findLiveByKey(key);
      if (entry && !isOfVersion(entry, version)) entry = null;
    } else {
      entry = await this.variants.pickServable(canonical, bucket, exclude, version);
    }
    if (entry && control?.maxAgeSeconds !== undefined && Date.now() - entry.createdAt.getTime() > control.maxAgeSeconds * 1000) return null;
    return entry;
  }

  private async findLiveByKey(key: string): Promise<CachedEntry | null> {
    const cached = this.l1.get(key);
    if (cached) return cached;
    const ticket = this.l1.readTicket();
    const entry = await this.repository.findLiveByKey(key);
    if (entry) this.l1.set(entry, ticket);
    return entry;
  }

  /**
   * An exercise that breaks its type's schema (or is no storable JSON object) is never cached or
   * returned: generate() is called again, up to generateAttempts times, then the last problem is
   * thrown. An error thrown by generate() itself is not retried.
   */
  private async generateAndStore(
    canonical: CanonicalContext,
    slot: number,
    generate: (context: CanonicalContext) => Promise<Exercise>,
    options: GetOrGenerateOptions,
  ): Promise<Exercise> {
    const attempts = options.generateAttempts ?? DEFAULT_GENERATE_ATTEMPTS;
    let exercise: Exercise;
    let elapsedMs: number;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        exercise = await generate(canonical);
      } catch (error) {
        this.metrics.generated?.(false, (performance.now() - started) / 1000);
        throw error;
      }
      elapsedMs = Math.round(performance.now() - started);
      this.metrics.generated?.(true, elapsedMs / 1000);
      try {
        assertValidExercise(exercise);
        this.assertMatchesSchema(canonical.type, exercise, 'generate');
        break;
      } catch (error) {
        if (attempt >= attempts) throw error;
        this.logger.warn(`generate() returned an invalid ${canonical.type} exercise (attempt ${attempt} of ${attempts}): ${(error as Error).message}`);
      }
    }
    try {
      await this.store(canonical, slot, exercise, { ...options, generationTimeMs: options.generationTimeMs ?? elapsedMs });
    } catch (error) {
      if (!isStorageUnavailable(error)) throw error;
      this.metrics.storageError?.('store');
      this.logger.warn(`generated exercise for ${canonical.type} could not be cached (storage unavailable); returning it uncached`);
    }
    return exercise;
  }

  private assertMatchesSchema(exerciseType: string, exercise: Exercise, source: 'write' | 'generate'): void {
    const violation = this.schemas.violationOf(exerciseType, exercise);
    if (!violation) return;
    this.metrics.schemaViolation?.(exerciseType, source);
    throw new ExerciseSchemaViolationError(violation);
  }

  private async store(canonical: CanonicalContext, slot: number, exercise: Exercise, options: StoreOptions): Promise<StoredExercise> {
    const stored = await this.repository.upsert(this.entryToStore(canonical, slot, exercise, options));
    await this.afterWrite(canonical, stored.key);
    return stored;
  }

  private entryToStore(canonical: CanonicalContext, slot: number, exercise: Exercise, options: StoreOptions): EntryToStore {
    return {
      key: keyOfCanonical(canonical, slot),
      contextKey: keyOfCanonical(canonical, 1),
      variant: slot,
      exerciseType: canonical.type,
      difficulty: canonical.difficulty,
      topics: canonical.topics,
      namespace: canonical.namespace,
      generatorVersion: options.generatorVersion,
      staleGraceSeconds: this.settings.staleIfErrorSeconds,
      userContextHash: userContextHashFor(canonical),
      exerciseJson: JSON.stringify(exercise),
      ttlSeconds: options.ttlSeconds ?? this.settings.defaultTtlSeconds,
      generationCost: options.generationCost ?? this.settings.defaultGenerationCost,
      generationTimeMs: options.generationTimeMs,
    };
  }

  /** After a committed write: drop the key from every L1, count it, keep the size bound. */
  private async afterWrite(canonical: CanonicalContext, key: string): Promise<void> {
    this.l1.delete([key]);
    await this.bus.publish({ keys: [key] }).catch(() => undefined);
    this.metrics.write?.(canonical.type);
    this.keepSizeBound();
  }

  /**
   * Between scheduled evictions the table is kept near maxEntries by evicting after every
   * evictEveryWrites writes on this replica: no COUNT(*) on the write path.
   */
  private keepSizeBound(): void {
    if (this.settings.evictEveryWrites === 0 || ++this.writesSinceEviction < this.settings.evictEveryWrites || this.evicting) return;
    this.writesSinceEviction = 0;
    this.evicting = this.evictLeastRecentlyUsed(this.settings.maxEntries)
      .catch((error: Error) => this.logger.warn(`size-bound eviction failed: ${error.message}`))
      .finally(() => (this.evicting = undefined));
  }
}

/** generate() ran past generateTimeoutMs. */
export class GenerateTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`generate() did not finish within ${timeoutMs} ms`);
    this.name = 'GenerateTimeoutError';
  }
}

/** The promise's outcome, or GenerateTimeoutError after `timeoutMs`; a late result is dropped. */
function withinTime<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GenerateTimeoutError(timeoutMs)), timeoutMs);
  });
  promise.catch(() => undefined); // a generation that fails after the timeout is not an unhandled rejection
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
