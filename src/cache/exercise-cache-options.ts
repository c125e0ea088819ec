/** What a caller stores: any JSON object (checked against its type's schema when one is registered). */
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
  /**
   * Stale-while-revalidate window (0..2,592,000 s; default staleWhileRevalidateSeconds of the
   * settings): past its expiry and within it the entry answers as stale while one caller
   * regenerates it in the background.
   */
  staleWhileRevalidateSeconds?: number;
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
  /** Cache-Control max-stale=N: an entry that expired at most this many seconds ago may answer, as stale (0..2,592,000). */
  maxStaleSeconds?: number;
  /** Cache-Control only-if-cached: getOrGenerate never generates or leases; a miss throws NotCachedError. */
  onlyIfCached?: boolean;
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

export interface StoredExercise {
  key: string;
  expiresAt: Date;
}
