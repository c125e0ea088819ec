import { isStorageUnavailable } from '../common/storage-unavailable';
import type { CacheHooks } from './cache-hooks';
import type { ScopedLogger } from './cache-logger';
import type { CacheSettings } from './cache-settings';
import { CanonicalContext, ExerciseContext, keyOfCanonical } from './cache-key';
import type { BackgroundRefresher } from './background-refresher';
import { CachedEntry, isOfVersion, isStale } from './cache-entry';
import { MAX_NEAR_RESULTS, MAX_TTL_SECONDS, assertIntegerInRange, assertValidExercise } from './context-rules';
import type { Exercise, GetOrGenerateOptions } from './exercise-cache-options';
import type { ExerciseCacheRepository } from './exercise-cache.repository';
import type { ExerciseLookupService } from './exercise-lookup.service';
import { ExerciseStoreService, assertValidStoreOptions } from './exercise-store.service';
import type { GenerationLock } from './generation-lock';
import { SingleFlight } from './single-flight';
import type { UsageBuffer } from './usage-buffer';

export const DEFAULT_GENERATE_ATTEMPTS = 2;
export const MAX_GENERATE_ATTEMPTS = 10;

/**
 * The guide's usage pattern in one call: a cached exercise when there is one, otherwise generate()
 * once per key across callers and replicas, store it and return it; with stale-if-error, an
 * expired entry when generating fails.
 */
export class GetOrGenerateService {
  private readonly generations = new SingleFlight<{ exercise: Exercise; entry?: CachedEntry }>();

  constructor(
    private readonly lookup: ExerciseLookupService,
    private readonly store: ExerciseStoreService,
    private readonly repository: ExerciseCacheRepository,
    private readonly settings: CacheSettings,
    private readonly usage: UsageBuffer,
    private readonly lock: GenerationLock,
    private readonly hooks: CacheHooks,
    private readonly logger: ScopedLogger,
    private readonly refresher: BackgroundRefresher,
  ) {}

  /**
   * A cached exercise when there is one, otherwise generate() once, however many callers (in this
   * process or on other replicas) miss the same key at the same time, store it and return it. If
   * generate() throws, every waiting caller gets the error and nothing is stored. When PostgreSQL
   * is down the exercise is still generated and returned; it is just not cached.
   */
  async getOrGenerate(
    context: ExerciseContext,
    generate: (context: CanonicalContext) => Promise<Exercise>,
    options: GetOrGenerateOptions = {},
  ): Promise<Exercise> {
    const prepared = this.lookup.prepare(context, options);
    const { canonical, bucket, exclude, version, control } = prepared;
    assertValidStoreOptions(options);
    const calledAt = Date.now();
    assertIntegerInRange(options.generateAttempts, 'generateAttempts', 1, MAX_GENERATE_ATTEMPTS);
    assertIntegerInRange(options.staleIfErrorSeconds, 'staleIfErrorSeconds', 0, MAX_TTL_SECONDS);
    assertIntegerInRange(options.generateTimeoutMs, 'generateTimeoutMs', 1, 3_600_000);
    const timeoutMs = options.generateTimeoutMs;
    const generateInTime = timeoutMs === undefined ? generate : (c: CanonicalContext) => withinTime(generate(c), timeoutMs);
    let slot = 1;
    try {
      const entry = await this.lookup.findServable(prepared);
      if (entry && isStale(entry)) {
        // Stale-while-revalidate: answer at once, regenerate once in the background.
        this.usage.recordHit(entry, 'stale');
        if (!control.onlyIfCached) this.refreshInBackground(canonical, entry, generateInTime, options);
        return entry.exercise;
      }
      if (entry) {
        this.usage.recordHit(entry);
        return entry.exercise;
      }
      if (options.acceptNearMiss) {
        // Enough candidates that one is left when the learner has seen (excluded) the best ones.
        const candidates = await this.lookup.findByTopics(context, { minOverlap: options.acceptNearMiss.minOverlap, limit: Math.min(MAX_NEAR_RESULTS, exclude.size + 1) });
        const near = candidates.find((entry) => !exclude.has(entry.key));
        if (near) {
          this.usage.recordHit(near, 'near_hit');
          return near.exercise;
        }
      }
      // Counted under its own type, namespace and version even if flushed before the store.
      this.lookup.recordMiss(prepared, !control.onlyIfCached);
      if (control.onlyIfCached) throw new NotCachedError(keyOfCanonical(canonical, 1));
      slot = await this.lookup.slotForMiss(canonical, bucket, exclude, version);
    } catch (error) {
      if (!isStorageUnavailable(error)) throw error;
      this.hooks.storageError?.('lookup');
      this.lookup.recordMiss(prepared, !control.onlyIfCached);
      this.logger.warn(`cache storage unavailable, generating without the cache: ${(error as Error).message}`);
    }
    if (control.onlyIfCached) throw new NotCachedError(keyOfCanonical(canonical, 1));
    const key = keyOfCanonical(canonical, slot);
    try {
      const result = await this.generations.run(key, () =>
        this.lock.withLock(key, async (outcome) => {
          if (outcome !== 'unavailable') {
            // Another caller may have stored this slot while we waited for the lock.
            const stored = await this.lookup.findLive(key).catch(() => null);
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
      // The lookup that found nothing fresh counted as a miss; the fallback that answered is a stale lookup.
      this.usage.recordHit(stale, 'stale');
      const reason = error instanceof GenerateTimeoutError ? 'timeout' : 'error';
      this.hooks.staleServed?.(canonical.type, reason);
      this.logger.warn(`serving a stale ${canonical.type} exercise (key ${key}, expires ${stale.expiresAt.toISOString()}) because generating failed: ${(error as Error).message}`);
      return stale.exercise;
    }
  }

  /**
   * One refresh of a stale entry's slot across callers and replicas (its lease): re-read under
   * the lease, so a slot another replica refreshed a moment ago is not generated again.
   */
  private refreshInBackground(
    canonical: CanonicalContext,
    stale: CachedEntry,
    generate: (context: CanonicalContext) => Promise<Exercise>,
    options: GetOrGenerateOptions,
  ): void {
    const attempts = options.generateAttempts ?? DEFAULT_GENERATE_ATTEMPTS;
    // Long enough for every attempt of a generation; leases last 1..300 s.
    const leaseSeconds = Math.min(300, Math.max(30, Math.ceil(((options.generateTimeoutMs ?? 30_000) * attempts) / 1000)));
    const slot = { key: stale.key, contextKey: stale.contextKey, variant: stale.variant, exerciseType: stale.exerciseType };
    this.refresher.start(slot, leaseSeconds, async () => {
      const current = await this.repository.findLiveByKey(stale.key);
      if (current && current.createdAt.getTime() !== stale.createdAt.getTime()) return false;
      await this.generateAndStore(canonical, stale.variant, generate, options);
      return true;
    });
  }

  /** Stale-if-error: the entry of this slot expired at most `windowSeconds` ago (or of another version), or null. */
  private async staleAfterFailure(key: string, exclude: ReadonlySet<string>, windowSeconds: number): Promise<CachedEntry | null> {
    if (windowSeconds <= 0 || exclude.has(key)) return null;
    return this.repository.findRecentByKey(key, windowSeconds).catch(() => null);
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
        this.hooks.generated?.(false, (performance.now() - started) / 1000);
        throw error;
      }
      elapsedMs = Math.round(performance.now() - started);
      this.hooks.generated?.(true, elapsedMs / 1000);
      try {
        assertValidExercise(exercise);
        this.store.assertMatchesSchema(canonical.type, exercise, 'generate');
        break;
      } catch (error) {
        if (attempt >= attempts) throw error;
        this.logger.warn(`generate() returned an invalid ${canonical.type} exercise (attempt ${attempt} of ${attempts}): ${(error as Error).message}`);
      }
    }
    try {
      await this.store.storeInSlot(canonical, slot, exercise, { ...options, generationTimeMs: options.generationTimeMs ?? elapsedMs });
    } catch (error) {
      if (!isStorageUnavailable(error)) throw error;
      this.hooks.storageError?.('store');
      this.logger.warn(`generated exercise for ${canonical.type} could not be cached (storage unavailable); returning it uncached`);
    }
    return exercise;
  }
}

/** only-if-cached (RFC 9111): getOrGenerate found nothing to answer with and, as asked, neither generated nor leased (the library's 504). */
export class NotCachedError extends Error {
  constructor(readonly key: string) {
    super('only-if-cached: no cached exercise for this context');
    this.name = 'NotCachedError';
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
