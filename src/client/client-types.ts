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
export type StoredExercise = StoredExerciseResponse;
export type NearMiss = NearMissResponse;
export type OverviewStats = OverviewStatsResponse;
export type Invalidated = InvalidatedResponse;

export type LookupOptions = Partial<Pick<LookupQueryDto, 'variants' | 'exclude'>>;
export type NearOptions = Partial<Pick<NearQueryDto, 'minOverlap' | 'limit'>>;
export type StoreOptions = Partial<Pick<StoreExerciseDto, 'ttlSeconds' | 'generationCost' | 'generationTimeMs' | 'variants'>> & {
  /** The X-Cache-Lease token of a lease lookup: stores into the leased slot and releases the lease. */
  leaseToken?: string;
};

export interface GetOrGenerateOptions extends LookupOptions, Omit<StoreOptions, 'leaseToken'> {
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
}

/** Where getOrGenerate's exercise came from (for the logger and tests). */
export type GenerationSource = 'cache' | 'coalesced' | 'generated' | 'generated-uncached';

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
