// Types only: they come from the server's own DTO classes, so the client cannot drift from what
// the service accepts and answers. `import type` is erased at compile time: nothing server-side
// is loaded at run time.
import type { ExerciseContext } from '../cache/cache-key';
import type { CachedExerciseResponse, InvalidatedResponse, NearMissResponse, StoredExerciseResponse } from '../cache/dto/exercise-responses.dto';
import type { LeaseLookupQueryDto } from '../cache/dto/lease-lookup-query.dto';
import type { LookupQueryDto, NearQueryDto } from '../cache/dto/lookup-query.dto';
import type { OverviewStatsResponse } from '../cache/dto/stats-responses.dto';
import type { StoreExerciseDto } from '../cache/dto/store-exercise.dto';

export type { ExerciseContext };
export type Exercise = Record<string, unknown>;

/** A hit: the exercise with its key (pass keys a learner has seen as `exclude`). */
export type CachedExercise = CachedExerciseResponse;
/** What get() answers: a hit, or with `stale` an expired entry the service served (X-Cache: STALE). */
export type LookedUpExercise = CachedExercise & { stale: boolean };
export type StoredExercise = StoredExerciseResponse;
export type NearMiss = NearMissResponse;
export type OverviewStats = OverviewStatsResponse;
export type Invalidated = InvalidatedResponse;

/** RFC 9111 request directives of one lookup, sent as its Cache-Control header. */
export interface CacheControlOptions {
  /** Skip the stored entry (a miss). */
  noCache?: boolean;
  /** Only an entry stored at most this many seconds ago. */
  maxAgeSeconds?: number;
  /** Accept an expired entry up to this many seconds past its expiry, or (true) within its stored stale grace. */
  maxStaleSeconds?: number | true;
  /** Never a miss to fill: the service answers 504, get() returns null. */
  onlyIfCached?: boolean;
}

export type LookupOptions = Partial<Pick<LookupQueryDto, 'variants' | 'exclude' | 'generatorVersion'>> & {
  cacheControl?: CacheControlOptions;
};
export type NearOptions = Partial<Pick<NearQueryDto, 'minOverlap' | 'limit'>>;
export type StoreOptions = Partial<
  Pick<StoreExerciseDto, 'ttlSeconds' | 'generationCost' | 'generationTimeMs' | 'variants' | 'generatorVersion' | 'staleWhileRevalidateSeconds'>
> & {
  /** The X-Cache-Lease token of a lease lookup: stores into the leased slot and releases the lease. */
  leaseToken?: string;
};

export interface GetOrGenerateOptions extends Omit<LookupOptions, 'cacheControl'>, Omit<StoreOptions, 'leaseToken'> {
  /** How long the service holds this caller's lease while it generates (1..300 s, `lease=`); default 30. */
  leaseSeconds?: LeaseLookupQueryDto['lease'];
  /** How long one lookup waits for another caller's generation (0..30000 ms, `wait=`); default 10000. */
  waitMs?: LeaseLookupQueryDto['wait'];
  /**
   * How long to keep waiting for another caller's generation in all, before generating anyway;
   * default leaseSeconds x 1000 + waitMs (a crashed holder's lease has expired by then).
   */
  maxWaitMs?: number;
  /**
   * Calls of generate() (1..10) while the service refuses what it returns for breaking the
   * type's JSON Schema (a 400 naming the pointer); default 2. Then that error is thrown.
   */
  generateAttempts?: number;
  /**
   * When generate() throws: ask the service for this context's entry expired at most this many
   * seconds ago (Cache-Control: max-stale=N) and return it instead of the error; 0 or absent: never.
   */
  staleIfErrorSeconds?: number;
}

/** Where getOrGenerate's exercise came from (for the logger and tests). */
export type GenerationSource = 'cache' | 'coalesced' | 'stale' | 'generated' | 'generated-uncached';

/** Anything with warn(): console works. */
export interface ClientLogger {
  warn(message: string, details?: Record<string, unknown>): void;
}

export interface ExerciseCacheClientOptions {
  /** Where the service listens, e.g. http://localhost:3000 */
  baseUrl: string;
  /** Sent as Authorization: Bearer <key> when the service has API_KEYS set. */
  apiKey?: string;
  /** Per-call timeout in milliseconds (a lease wait is added to it); default 10000. */
  timeoutMs?: number;
  /** Retries of 429, 503 and failed connections; default 2. */
  retries?: number;
  /** Told when the client retries or degrades (service unreachable: generating without the cache). */
  logger?: ClientLogger;
}
