import { cacheKeyFor } from '../src/cache/cache-key';

/** A row as the baseline reads it: what the service's GET answers with. */
export interface ReferenceRow {
  cache_key: string;
  exercise_data: Record<string, unknown>;
  usage_count: number;
  created_at: Date;
  expires_at: Date;
}

/** Same JSON as the service's CachedExerciseResponse. */
export function hitBody(row: ReferenceRow): string {
  return JSON.stringify({
    key: row.cache_key,
    exercise: row.exercise_data,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    usageCount: row.usage_count,
  });
}

/** Same JSON as the service's 404 on a miss. */
export function missBody(key: string): string {
  return JSON.stringify({ statusCode: 404, error: 'Not Found', message: 'no cached exercise for this context', key });
}

/**
 * The key of ?type=&difficulty=&topics=a,b computed as the service does (cacheKeyFor); null when
 * type or difficulty is unusable. The references skip the service's validation on purpose: they
 * measure what the database, or the framework, costs without it.
 */
export function keyOfQuery(type: unknown, difficulty: unknown, topics: unknown): string | null {
  if (typeof type !== 'string' || typeof difficulty !== 'string') return null;
  const level = Number(difficulty);
  if (!Number.isInteger(level)) return null;
  const list = typeof topics === 'string' ? topics.split(',').filter((t) => t !== '') : [];
  return cacheKeyFor({ type, difficulty: level, topics: list });
}
