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
  exercise: Record<string, unknown>;
  usageCount: number;
  createdAt: Date;
  expiresAt: Date;
  generationCost: number;
}

export interface EntryToStore {
  key: string;
  contextKey: string;
  variant: number;
  exerciseType: string;
  difficulty: number;
  topics: string[];
  namespace?: string;
  userContextHash: string;
  /** Serialised once by the service; stored as jsonb. */
  exerciseJson: string;
  ttlSeconds: number;
  generationCost: number;
  generationTimeMs?: number;
}

export interface UsageCount {
  uses: number;
  lastUsedAt: Date;
}

export interface OutcomeCount {
  day: string;
  exerciseType: string;
  difficulty: number;
  hits: number;
  nearHits: number;
  misses: number;
  costSaved: number;
}

/** What one flush writes: uses per cache key, and lookup outcomes per (UTC day, type, difficulty). */
export interface UsageBatch {
  usage: Map<string, UsageCount>;
  outcomes: Map<string, OutcomeCount>;
}
