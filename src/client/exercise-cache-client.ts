import { ExerciseCacheLeaseConflictError, ExerciseCacheRateLimitedError, ExerciseCacheTimeoutError, ExerciseCacheUnavailableError } from './client-errors';
import { normalizeTopics } from './client-key';
import type {
  CacheControlOptions,
  CachedExercise,
  Exercise,
  ExerciseCacheClientOptions,
  ExerciseContext,
  GetOrGenerateOptions,
  Invalidated,
  LookedUpExercise,
  LookupOptions,
  NearMiss,
  NearOptions,
  OverviewStats,
  StoreOptions,
  StoredExercise,
} from './client-types';
import { HttpTransport, retryAfterOf, sleep } from './http-transport';

const DEFAULT_LEASE_SECONDS = 30;
const DEFAULT_WAIT_MS = 10000;
const DEFAULT_GENERATE_ATTEMPTS = 2;

/** The REST API of exercise-cache, typed. Create one with createExerciseCacheClient(). */
export interface ExerciseCacheClient {
  /**
   * The cached exercise for a context (`stale: true` when the service served an expired entry
   * within a stale window or `cacheControl.maxStaleSeconds`), or null on a miss (and on the 504
   * of `cacheControl.onlyIfCached`).
   */
  get(context: ExerciseContext, options?: LookupOptions): Promise<LookedUpExercise | null>;
  /** Stores an exercise; with `leaseToken`, into the leased slot (409 when the lease went to another caller). */
  set(context: ExerciseContext, exercise: Exercise, options?: StoreOptions): Promise<StoredExercise>;
  /**
   * A cached exercise, or generate() once across every client and replica (memcache leases):
   * one caller per context gets a lease and generates, the others wait for its exercise. When the
   * service is unreachable it still generates and returns, and tells the logger.
   *
   * Stale-while-revalidate: when the service answers with a stale entry (X-Cache: STALE) it is
   * returned at once; if that answer carried the lease (X-Cache-Lease, one caller per slot across
   * every client), generate() runs in the background and its exercise is stored under the lease.
   * Stale-if-error: with `staleIfErrorSeconds`, a generate() that throws is answered with the
   * entry expired at most that long ago (Cache-Control: max-stale=N), if the service still has one.
   */
  getOrGenerate(context: ExerciseContext, generate: (context: ExerciseContext) => Promise<Exercise>, options?: GetOrGenerateOptions): Promise<Exercise>;
  /** Removes one entry by key, or every variant of a context; returns how many were removed. */
  invalidate(keyOrContext: string | ExerciseContext): Promise<number>;
  /** Removes every entry of one namespace; returns how many were removed. */
  invalidateNamespace(namespace: string): Promise<number>;
  /** Live entries of the same type and difficulty with overlapping topics. */
  near(context: ExerciseContext, options?: NearOptions): Promise<NearMiss[]>;
  /** Overall statistics (GET /exercise-cache/stats). */
  stats(): Promise<OverviewStats>;
  /** Background refreshes (stale-while-revalidate) that failed since the client was created; each is also logged. */
  readonly refreshFailures: number;
  /** Waits for the background refreshes under way; no new one starts afterwards. */
  close(): Promise<void>;
}

export function createExerciseCacheClient(options: ExerciseCacheClientOptions): ExerciseCacheClient {
  if (!options || typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
    throw new TypeError('createExerciseCacheClient: baseUrl must be an http(s) URL');
  }
  const transport = new HttpTransport({
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    timeoutMs: options.timeoutMs ?? 10000,
    retries: options.retries ?? 2,
    logger: options.logger,
  });
  const logger = options.logger;

  const contextQuery = (context: ExerciseContext) => ({ type: context.type, difficulty: context.difficulty, topics: context.topics, namespace: context.namespace });

  const get: ExerciseCacheClient['get'] = async (context, lookup = {}) => {
    const cacheControl = cacheControlHeader(lookup.cacheControl);
    const answer = await transport.expect(
      {
        method: 'GET',
        path: '/exercise-cache',
        query: { ...contextQuery(context), variants: lookup.variants, exclude: joined(lookup.exclude), generatorVersion: lookup.generatorVersion },
        headers: cacheControl ? { 'cache-control': cacheControl } : undefined,
      },
      [200, 404, 504],
    );
    return answer.status === 200 ? { ...(answer.body as CachedExercise), stale: answer.headers.get('x-cache') === 'STALE' } : null;
  };

  // Stale-while-revalidate: refreshes running in the background, awaited by close().
  const refreshes = new Set<Promise<void>>();
  let refreshFailures = 0;
  let closed = false;
  const refreshInBackground = (run: () => Promise<unknown>, type: string) => {
    if (closed) return;
    const refresh: Promise<void> = run()
      .then(() => undefined)
      .catch((error: Error) => {
        refreshFailures += 1;
        logger?.warn(`background refresh of a stale exercise failed (the stale one stays until its window ends): ${error.message}`, { type });
      })
      .finally(() => refreshes.delete(refresh));
    refreshes.add(refresh);
  };

  /** Stale-if-error: the entry expired at most `seconds` ago, or null (none, or the service cannot say). */
  const staleAfterFailure = async (context: ExerciseContext, request: GetOrGenerateOptions, seconds: number | undefined, error: unknown): Promise<Exercise | null> => {
    if (!seconds || seconds <= 0) return null;
    const stale = await get(context, { variants: request.variants, exclude: request.exclude, generatorVersion: request.generatorVersion, cacheControl: { maxStaleSeconds: seconds } }).catch(() => null);
    if (!stale) return null;
    logger?.warn(`serving a stale exercise (expired ${stale.expiresAt}) because generate() failed: ${(error as Error)?.message ?? String(error)}`, { type: context.type });
    return stale.exercise;
  };

  const set: ExerciseCacheClient['set'] = async (context, exercise, store = {}) => {
    const { leaseToken, ...fields } = store;
    const answer = await transport.expect(
      {
        method: 'POST',
        path: '/exercise-cache',
        body: { context: { type: context.type, difficulty: context.difficulty, topics: [...context.topics], ...namespaceOf(context) }, exercise, ...fields },
        headers: leaseToken ? { 'x-cache-lease': leaseToken } : undefined,
      },
      [200, 201],
    );
    return answer.body as StoredExercise;
  };

  const getOrGenerate: ExerciseCacheClient['getOrGenerate'] = async (context, generate, request = {}) => {
    const leaseSeconds = request.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    const waitMs = request.waitMs ?? DEFAULT_WAIT_MS;
    const giveUpAt = Date.now() + (request.maxWaitMs ?? leaseSeconds * 1000 + waitMs);
    const canonical: ExerciseContext = { type: context.type, difficulty: context.difficulty, topics: normalizeTopics(context.topics), ...namespaceOf(context) };
    const store = {
      ttlSeconds: request.ttlSeconds,
      generationCost: request.generationCost,
      variants: request.variants,
      generatorVersion: request.generatorVersion,
      staleWhileRevalidateSeconds: request.staleWhileRevalidateSeconds,
    };
    const attempts = request.generateAttempts ?? DEFAULT_GENERATE_ATTEMPTS;
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) throw new TypeError('getOrGenerate: generateAttempts must be an integer from 1 to 10');
    const staleIfError = request.staleIfErrorSeconds;
    if (staleIfError !== undefined && !(Number.isInteger(staleIfError) && staleIfError >= 0 && staleIfError <= 2_592_000)) {
      throw new TypeError('getOrGenerate: staleIfErrorSeconds must be an integer from 0 to 2592000');
    }
    const generateOrStale = async (): Promise<Exercise> => {
      try {
        return await generate(canonical);
      } catch (error) {
        const stale = await staleAfterFailure(canonical, request, staleIfError, error);
        if (stale) throw new ServedStale(stale);
        throw error;
      }
    };
    // An exercise generated under a lease that expired before it was stored: kept, so that a new
    // lease stores it instead of generating again; but another caller's stored exercise wins.
    let orphan: Exercise | undefined;
    for (;;) {
      let answer;
      try {
        answer = await transport.expect(
          {
            method: 'GET',
            path: '/exercise-cache',
            query: {
              ...contextQuery(context),
              variants: request.variants,
              exclude: joined(request.exclude),
              generatorVersion: request.generatorVersion,
              lease: leaseSeconds,
              wait: waitMs,
            },
            extraTimeoutMs: waitMs,
          },
          [200, 404],
        );
      } catch (error) {
        if (!isDegradable(error)) throw error;
        logger?.warn(`exercise-cache unavailable, generating without it: ${(error as Error).message}`, { type: context.type });
        return orphan ?? generate(canonical);
      }
      const token = answer.headers.get('x-cache-lease');
      if (answer.status === 200) {
        // A stale answer with the lease: this caller refreshes it, in the background.
        if (token && answer.headers.get('x-cache') === 'STALE') {
          refreshInBackground(async () => {
            const started = Date.now();
            const exercise = await generate(canonical);
            await set(canonical, exercise, { ...store, generationTimeMs: Date.now() - started, leaseToken: token });
          }, context.type);
        }
        return (answer.body as CachedExercise).exercise;
      }
      if (token) {
        let started = Date.now();
        let exercise: Exercise;
        try {
          exercise = orphan ?? (await generateOrStale());
        } catch (error) {
          if (error instanceof ServedStale) return error.exercise;
          throw error;
        }
        try {
          // An exercise the service refuses for breaking its type's schema is generated again, under the same lease.
          for (let attempt = 1; ; attempt++) {
            try {
              await set(canonical, exercise, { ...store, generationTimeMs: Date.now() - started, leaseToken: token });
              return exercise;
            } catch (error) {
              if (!isSchemaViolation(error) || attempt >= attempts) throw error;
              logger?.warn(`generate() returned an exercise the service refused (attempt ${attempt} of ${attempts}): ${(error as Error).message}`, { type: context.type });
              orphan = undefined;
              started = Date.now();
              exercise = await generate(canonical);
            }
          }
        } catch (error) {
          if (isDegradable(error)) {
            logger?.warn(`exercise-cache unavailable, returning the exercise uncached: ${(error as Error).message}`, { type: context.type });
            return exercise;
          }
          if (!(error instanceof ExerciseCacheLeaseConflictError)) throw error;
          logger?.warn('lease expired before the exercise was stored and went to another caller; serving what that caller stores', { type: context.type });
          orphan = exercise;
          continue;
        }
      }
      // Another caller holds the lease and our wait ran out: wait again, or give up waiting.
      if (Date.now() >= giveUpAt) {
        logger?.warn("waited for another caller's generation in vain; generating", { type: context.type });
        if (orphan) return orphan;
        return generateOrStale().catch((error: unknown) => {
          if (error instanceof ServedStale) return error.exercise;
          throw error;
        });
      }
      await sleep(Math.min(retryAfterOf(answer.headers) ?? 0, 1000, Math.max(0, giveUpAt - Date.now())));
    }
  };

  const invalidate: ExerciseCacheClient['invalidate'] = async (keyOrContext) => {
    if (typeof keyOrContext === 'string') {
      const answer = await transport.expect({ method: 'DELETE', path: `/exercise-cache/${encodeURIComponent(keyOrContext)}` }, [204, 404]);
      return answer.status === 204 ? 1 : 0;
    }
    const answer = await transport.expect({ method: 'DELETE', path: '/exercise-cache', query: contextQuery(keyOrContext) }, [200]);
    return (answer.body as Invalidated).removed;
  };

  const near: ExerciseCacheClient['near'] = async (context, options = {}) => {
    const answer = await transport.expect(
      { method: 'GET', path: '/exercise-cache/near', query: { ...contextQuery(context), minOverlap: options.minOverlap, limit: options.limit } },
      [200],
    );
    return answer.body as NearMiss[];
  };

  const stats: ExerciseCacheClient['stats'] = async () => (await transport.expect({ method: 'GET', path: '/exercise-cache/stats' }, [200])).body as OverviewStats;

  const invalidateNamespace: ExerciseCacheClient['invalidateNamespace'] = async (namespace) => {
    const answer = await transport.expect({ method: 'DELETE', path: '/exercise-cache', query: { namespace } }, [200]);
    return (answer.body as Invalidated).removed;
  };

  const close: ExerciseCacheClient['close'] = async () => {
    closed = true;
    while (refreshes.size > 0) await Promise.all([...refreshes]);
  };

  return {
    get,
    set,
    getOrGenerate,
    invalidate,
    invalidateNamespace,
    near,
    stats,
    close,
    get refreshFailures() {
      return refreshFailures;
    },
  };
}

/** generate() failed and a stale exercise answers instead (stale-if-error); carries it out of the lease branch. */
class ServedStale {
  constructor(readonly exercise: Exercise) {}
}

/** The Cache-Control request header of a lookup's options; undefined when they name nothing. */
function cacheControlHeader(options: CacheControlOptions | undefined): string | undefined {
  if (!options) return undefined;
  const directives: string[] = [];
  if (options.noCache) directives.push('no-cache');
  if (options.maxAgeSeconds !== undefined) directives.push(`max-age=${seconds(options.maxAgeSeconds, 'maxAgeSeconds')}`);
  if (options.maxStaleSeconds === true) directives.push('max-stale');
  else if (options.maxStaleSeconds !== undefined) directives.push(`max-stale=${seconds(options.maxStaleSeconds, 'maxStaleSeconds')}`);
  if (options.onlyIfCached) directives.push('only-if-cached');
  return directives.length > 0 ? directives.join(', ') : undefined;
}

function seconds(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`cacheControl.${name} must be a non-negative integer of seconds`);
  return value;
}

/** Unreachable, overloaded or too slow: getOrGenerate carries on without the cache. */
function isDegradable(error: unknown): boolean {
  return error instanceof ExerciseCacheUnavailableError || error instanceof ExerciseCacheTimeoutError || error instanceof ExerciseCacheRateLimitedError;
}

/** exclude as one comma-separated parameter (keys never contain commas). */
function joined(keys: readonly string[] | undefined): string | undefined {
  return keys && keys.length > 0 ? keys.join(',') : undefined;
}

/** The service's 400 for an exercise that breaks its type's JSON Schema names the pointer and the rule. */
function isSchemaViolation(error: unknown): boolean {
  const body = (error as { status?: number; body?: { pointer?: unknown; rule?: unknown } } | undefined);
  return body?.status === 400 && typeof body.body?.pointer === 'string' && typeof body.body?.rule === 'string';
}

/** `{ namespace }` only when the context has one: a namespace-less context keeps today's key and body. */
const namespaceOf = (context: ExerciseContext) => (context.namespace !== undefined ? { namespace: context.namespace } : {});
