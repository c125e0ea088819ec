/** One cached exercise as the service hands it around. */
export interface CachedEntry {
  key: string;
  contextKey: string;
  variant: number;
  exerciseType: string;
  difficulty: number;
  topics: string[];
  /** Absent for an entry without a namespace. */
  namespace?: string;
  /** The generator (prompt, model) version it was written with; absent when none was named. */
  generatorVersion?: string;
  exercise: Record<string, unknown>;
  usageCount: number;
  createdAt: Date;
  expiresAt: Date;
  generationCost: number;
  /** Stale-while-revalidate window the writer gave it (seconds past expiresAt); 0: none. */
  staleWhileRevalidateSeconds: number;
  /** Seconds past expiresAt the row outlives cleanup (the larger stale window). */
  staleGraceSeconds: number;
}

/** Whether an entry served now is stale: past its expires_at (served within a stale window). */
export const isStale = (entry: CachedEntry, now = Date.now()): boolean => entry.expiresAt.getTime() <= now;

/**
 * How far past expires_at a lookup may reach besides the entry's own stale-while-revalidate
 * window: RFC 9111 max-stale, either N seconds or (without N) the entry's stored grace.
 */
export interface StaleAllowance {
  maxStaleSeconds?: number;
  withinGrace?: boolean;
}

/** A lookup's max-stale (seconds, or true for a bare max-stale: within the entry's grace) as the repository's allowance. */
export const staleAllowanceOf = (maxStale: number | true | undefined): StaleAllowance => ({
  maxStaleSeconds: maxStale === true ? undefined : maxStale,
  withinGrace: maxStale === true,
});

export interface EntryToStore {
  key: string;
  contextKey: string;
  variant: number;
  exerciseType: string;
  difficulty: number;
  topics: string[];
  namespace?: string;
  generatorVersion?: string;
  /** Seconds after expiry the row must survive cleanup: the larger of both stale windows. */
  staleGraceSeconds?: number;
  /** Stale-while-revalidate window (at most staleGraceSeconds). */
  staleWhileRevalidateSeconds?: number;
  userContextHash: string;
  /** Serialised once by the service; stored as jsonb. */
  exerciseJson: string;
  ttlSeconds: number;
  generationCost: number;
  generationTimeMs?: number;
}

/**
 * Whether an entry is of the generator version a lookup asks for: any entry when the lookup names
 * none; otherwise only one written with exactly that version (an entry written without a version
 * is not of any named version).
 */
export const isOfVersion = (entry: CachedEntry, version: string | undefined): boolean =>
  version === undefined || entry.generatorVersion === version;

export interface UsageCount {
  uses: number;
  lastUsedAt: Date;
}

export interface OutcomeCount {
  day: string;
  exerciseType: string;
  difficulty: number;
  /** '' for none. */
  namespace: string;
  /** '' for none. */
  generatorVersion: string;
  hits: number;
  nearHits: number;
  stale: number;
  coalesced: number;
  misses: number;
  costSaved: number;
  /**
   * A miss in the row came from a caller about to generate and store (getOrGenerate, a lease
   * holder): the row keeps its own type, namespace and version even when flushed before that
   * first entry is stored (see ExerciseCacheRepository.writeUsage).
   */
  generating: boolean;
}

/** Where one lookup is counted: the group of its outcome row (besides the UTC day). */
export interface OutcomeGroup {
  exerciseType: string;
  difficulty: number;
  namespace?: string;
  generatorVersion?: string;
}

/** What one flush writes: uses per cache key, and lookup outcomes per (UTC day, type, difficulty, namespace, version). */
export interface UsageBatch {
  usage: Map<string, UsageCount>;
  outcomes: Map<string, OutcomeCount>;
}
