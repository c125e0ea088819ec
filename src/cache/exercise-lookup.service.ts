import type { CacheSettings } from './cache-settings';
import { CACHE_KEY_PATTERN, CanonicalContext, ExerciseContext, canonicalize, keyOfCanonical, userContextHashFor } from './cache-key';
import { CachedEntry, isOfVersion, isStale, staleAllowanceOf } from './cache-entry';
import {
  InvalidCacheRequestError,
  MAX_MIN_OVERLAP,
  MAX_NEAR_RESULTS,
  MAX_TTL_SECONDS,
  MAX_VARIANTS,
  RULE_MESSAGES,
  assertIntegerInRange,
  assertValidContext,
  assertValidKeys,
  assertValidGeneratorVersion,
} from './context-rules';
import type { Exercise, LookupOptions } from './exercise-cache-options';
import type { ExerciseCacheRepository } from './exercise-cache.repository';
import type { L1Cache } from './l1-cache';
import type { UsageBuffer } from './usage-buffer';
import type { VariantPicker } from './variant-picker';

/** A validated lookup: the context in canonical form and what may answer it. */
export interface PreparedLookup {
  canonical: CanonicalContext;
  bucket: number;
  exclude: Set<string>;
  version?: string;
  /** Request directives (RFC 9111 no-cache, max-age, max-stale, only-if-cached). */
  control: {
    noCache: boolean;
    maxAgeSeconds?: number;
    /** An expired entry may answer up to this many seconds past expiry, or (true: bare max-stale) within its stored grace. */
    maxStale?: number | true;
    onlyIfCached: boolean;
  };
}

/**
 * Finds stored exercises: by context (L1 first, then one query), by key, by similar topics; and
 * counts each lookup as a hit or a miss. Never writes entries.
 */
export class ExerciseLookupService {
  /** Uses counted for an entry snapshot (an L1 entry is served many times) before its next answer. */
  private readonly usesBeforeNext = new WeakMap<CachedEntry, number>();

  constructor(
    private readonly repository: ExerciseCacheRepository,
    private readonly settings: CacheSettings,
    private readonly l1: L1Cache,
    private readonly usage: UsageBuffer,
    private readonly variants: VariantPicker,
  ) {}

  /** The cached exercise for a context, or null (and the lookup counts as a miss). */
  async get(context: ExerciseContext, options: LookupOptions = {}): Promise<Exercise | null> {
    return (await this.lookup(context, options))?.exercise ?? null;
  }

  /** Like get(), with the entry's key, timestamps and usage. */
  async lookup(context: ExerciseContext, options: LookupOptions = {}): Promise<CachedEntry | null> {
    const prepared = this.prepare(context, options);
    return this.recordLookup(prepared, await this.findServable(prepared));
  }

  /** The live entry with this key, or null; a hit counts for its type (a miss has no known type, so it is not counted). */
  async getByKey(key: string): Promise<CachedEntry | null> {
    if (!CACHE_KEY_PATTERN.test(key)) throw new InvalidCacheRequestError(RULE_MESSAGES.key());
    const entry = await this.findLive(key);
    return entry ? this.serveHit(entry) : null;
  }

  /** Live entries with the same difficulty and topics, of any type. */
  async findSimilar(context: ExerciseContext, limit = 10): Promise<CachedEntry[]> {
    assertValidContext(context);
    assertIntegerInRange(limit, 'limit', 1, MAX_NEAR_RESULTS);
    return this.repository.findSimilar(userContextHashFor(context), limit);
  }

  /** Near misses: live entries of the same type and difficulty whose topics overlap. */
  async findByTopics(
    context: ExerciseContext,
    { minOverlap = 1, limit = 10 }: { minOverlap?: number; limit?: number } = {},
  ): Promise<(CachedEntry & { overlap: number })[]> {
    assertValidContext(context);
    assertIntegerInRange(minOverlap, 'minOverlap', 1, MAX_MIN_OVERLAP);
    assertIntegerInRange(limit, 'limit', 1, MAX_NEAR_RESULTS);
    const canonical = canonicalize(context);
    if (canonical.topics.length === 0) return [];
    return this.repository.findByTopics(canonical.type, canonical.difficulty, canonical.topics, minOverlap, limit, canonical.namespace);
  }

  // For leases (LeaseCoordinator) and getOrGenerate: they decide a lookup's outcome only after
  // their own step, so they look up without counting and record the outcome once.

  /** lookup() without recording the outcome; the caller records it with recordLookup(). */
  async peek(context: ExerciseContext, options: LookupOptions = {}): Promise<PreparedLookup & { entry: CachedEntry | null }> {
    const prepared = this.prepare(context, options);
    return { ...prepared, entry: await this.findServable(prepared) };
  }

  /**
   * Counts a lookup made with peek(): with an entry, `served` (default: a hit, or stale for an
   * entry past its expiry; returned as served, see serveHit); without, a miss under the context's
   * namespace and the generator version the lookup asked for.
   */
  recordLookup(lookup: Pick<PreparedLookup, 'canonical' | 'version'>, entry: CachedEntry | null, served?: 'hit' | 'stale' | 'coalesced'): CachedEntry | null {
    if (entry) return this.serveHit(entry, served ?? (isStale(entry) ? 'stale' : 'hit'));
    this.recordMiss(lookup);
    return null;
  }

  /**
   * Counts a lookup that served nothing. `generating`: the caller generates and stores next (see
   * UsageBuffer.recordMiss); never for a plain REST lookup, whose client may invent any names.
   */
  recordMiss({ canonical, version }: Pick<PreparedLookup, 'canonical' | 'version'>, generating = false): void {
    this.usage.recordMiss(canonical.type, canonical.difficulty, canonical.namespace, version, generating);
  }

  /** The variant slot a new exercise for this missed lookup goes to (1 for a single-variant context). */
  slotForMiss(canonical: CanonicalContext, bucket: number, exclude: ReadonlySet<string>, version?: string): Promise<number> {
    return bucket > 1 || exclude.size > 0 ? this.variants.slotForNewVariant(canonical, bucket, exclude, version) : Promise.resolve(1);
  }

  /** The live entry stored under one key (through L1), or null; counts nothing. */
  async findLive(key: string): Promise<CachedEntry | null> {
    const cached = this.l1.get(key);
    if (cached) return cached;
    const ticket = this.l1.readTicket();
    const entry = await this.repository.findLiveByKey(key);
    if (entry) this.l1.set(entry, ticket);
    return entry;
  }

  /**
   * The live entry under a key (L1 first), else one that expired within its own
   * stale-while-revalidate window or within `maxStale` (one query either way). Only live
   * entries enter L1.
   */
  private async findFreshOrStale(key: string, maxStale: number | true | undefined): Promise<CachedEntry | null> {
    const cached = this.l1.get(key);
    if (cached) return cached;
    const ticket = this.l1.readTicket();
    const entry = await this.repository.findServableByKey(key, staleAllowanceOf(maxStale));
    if (entry && !isStale(entry)) this.l1.set(entry, ticket);
    return entry;
  }

  /** Checks a lookup's context and options and resolves their defaults. */
  prepare(context: ExerciseContext, options: LookupOptions): PreparedLookup {
    assertValidContext(context);
    assertIntegerInRange(options.variants, 'variants', 1, MAX_VARIANTS);
    assertValidKeys(options.exclude ?? []);
    assertValidGeneratorVersion(options.generatorVersion);
    assertIntegerInRange(options.maxAgeSeconds, 'maxAgeSeconds', 0, MAX_TTL_SECONDS);
    if (options.noCache !== undefined && typeof options.noCache !== 'boolean') throw new InvalidCacheRequestError('noCache must be true or false');
    assertIntegerInRange(options.maxStaleSeconds, 'maxStaleSeconds', 0, MAX_TTL_SECONDS);
    if (options.onlyIfCached !== undefined && typeof options.onlyIfCached !== 'boolean') throw new InvalidCacheRequestError('onlyIfCached must be true or false');
    return {
      canonical: canonicalize(context),
      bucket: options.variants ?? this.settings.variantsPerContext,
      exclude: new Set(options.exclude ?? []),
      version: options.generatorVersion,
      control: { noCache: options.noCache === true, maxAgeSeconds: options.maxAgeSeconds, maxStale: options.maxStaleSeconds, onlyIfCached: options.onlyIfCached === true },
    };
  }

  /** The entry that may answer a prepared lookup, counting nothing. One round trip at most: L1 first, then the single row (or the variants of the context). */
  async findServable({ canonical, bucket, exclude, version, control }: PreparedLookup): Promise<CachedEntry | null> {
    if (control.noCache) return null;
    let entry: CachedEntry | null;
    if (bucket === 1) {
      const key = keyOfCanonical(canonical, 1);
      if (exclude.has(key)) return null;
      entry = await this.findFreshOrStale(key, control.maxStale);
      // Another version's entry is not fresh, and never served stale here (stale-if-error may).
      if (entry && !isOfVersion(entry, version)) entry = null;
    } else {
      entry = await this.variants.pickServable(canonical, bucket, exclude, version, control.maxStale);
    }
    if (entry && control.maxAgeSeconds !== undefined && Date.now() - entry.createdAt.getTime() > control.maxAgeSeconds * 1000) return null;
    return entry;
  }

  /**
   * Records a hit and returns the entry as served, with a current usageCount: the uses this replica
   * recorded before this one, written or still buffered. The stored count lags by the flush
   * interval, and an L1 entry keeps the count it was read with; uses served by other replicas
   * show once they are written and the entry is read from the database again.
   */
  private serveHit(entry: CachedEntry, outcome: 'hit' | 'stale' | 'coalesced' = 'hit'): CachedEntry {
    const usesBefore = this.usesBeforeNext.get(entry) ?? entry.usageCount + this.usage.pendingUses(entry.key);
    this.usesBeforeNext.set(entry, usesBefore + 1);
    this.usage.recordHit(entry, outcome);
    return usesBefore === entry.usageCount ? entry : { ...entry, usageCount: usesBefore };
  }
}
