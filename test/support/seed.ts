import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';

type Queryable = Pool | PoolClient;

/** One exercise_cache row; every column has a harmless default so a test names only what it checks. */
export interface ExerciseSeed {
  cacheKey?: string;
  contextKey?: string;
  variant?: number;
  exerciseType?: string;
  exerciseData?: unknown;
  userContextHash?: string;
  difficulty?: number;
  topics?: string[];
  usageCount?: number;
  lastUsedAt?: Date | string;
  createdAt?: Date | string;
  expiresAt?: Date | string;
  /** numeric(10,6): pass a string ('0.004') to keep the value exact. */
  generationCost?: string | number;
  generationTimeMs?: number | null;
}

export interface LookupStatsSeed {
  /** 'YYYY-MM-DD' */
  day: string;
  exerciseType: string;
  difficulty: number;
  hits?: number;
  nearHits?: number;
  misses?: number;
  stale?: number;
  coalesced?: number;
  costSaved?: string | number;
  /** Default '' (none). */
  namespace?: string;
  /** Default '' (none). */
  generatorVersion?: string;
}

const HOUR = 3600 * 1000;
let sequence = 0;

export const secondsAgo = (seconds: number): Date => new Date(Date.now() - seconds * 1000);
export const secondsFromNow = (seconds: number): Date => new Date(Date.now() + seconds * 1000);

/** A unique 64-character key, as the service's SHA-256 keys are. */
export function uniqueKey(label = 'key'): string {
  sequence += 1;
  return createHash('sha256').update(`${label}:${process.pid}:${sequence}:${Math.random()}`).digest('hex');
}

/** Defaults: created an hour ago, expires in a day (active), used just now. */
function withDefaults(seed: ExerciseSeed) {
  const cacheKey = seed.cacheKey ?? uniqueKey('cache');
  return [
    cacheKey,
    seed.contextKey ?? cacheKey,
    seed.variant ?? 1,
    seed.exerciseType ?? 'contextual_fill',
    JSON.stringify(seed.exerciseData ?? { prompt: `exercise ${cacheKey.slice(0, 8)}` }),
    seed.userContextHash ?? uniqueKey('context'),
    seed.difficulty ?? 3,
    seed.topics ?? ['colors'],
    seed.usageCount ?? 0,
    seed.lastUsedAt ?? new Date(),
    seed.createdAt ?? new Date(Date.now() - HOUR),
    seed.expiresAt ?? new Date(Date.now() + 24 * HOUR),
    seed.generationCost ?? '0.003',
    seed.generationTimeMs === undefined ? 1200 : seed.generationTimeMs,
  ];
}

const INSERT_EXERCISE = `
  INSERT INTO exercise_cache (cache_key, context_key, variant, exercise_type, exercise_data, user_context_hash,
    difficulty, topics, usage_count, last_used_at, created_at, expires_at, generation_cost, generation_time_ms)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`;

/** Inserts the rows in order; returns their cache keys in the same order. */
export async function insertExercises(db: Queryable, seeds: ExerciseSeed[]): Promise<string[]> {
  const keys: string[] = [];
  for (const seed of seeds) {
    const values = withDefaults(seed);
    await db.query(INSERT_EXERCISE, values);
    keys.push(values[0] as string);
  }
  return keys;
}

export async function insertExercise(db: Queryable, seed: ExerciseSeed = {}): Promise<string> {
  const [key] = await insertExercises(db, [seed]);
  return key;
}

/** An entry that expired a day ago (created two days ago, so the expires_at > created_at CHECK holds). */
export function expired(seed: ExerciseSeed = {}): ExerciseSeed {
  return { createdAt: new Date(Date.now() - 48 * HOUR), expiresAt: new Date(Date.now() - 24 * HOUR), lastUsedAt: new Date(Date.now() - 30 * HOUR), ...seed };
}

export async function insertLookupStats(db: Queryable, rows: LookupStatsSeed[]): Promise<void> {
  for (const row of rows) {
    await db.query(
      `INSERT INTO exercise_cache_lookup_stats (day, exercise_type, difficulty, hits, near_hits, misses, cost_saved, stale, coalesced, namespace, generator_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        row.day, row.exerciseType, row.difficulty, row.hits ?? 0, row.nearHits ?? 0, row.misses ?? 0, row.costSaved ?? 0,
        row.stale ?? 0, row.coalesced ?? 0, row.namespace ?? '', row.generatorVersion ?? '',
      ],
    );
  }
}

/**
 * `count` active entries in one statement (for plan and volume tests): entry i was last used i
 * seconds ago, so a higher i is less recently used.
 */
export async function insertManyActiveExercises(db: Queryable, count: number, exerciseType = 'bulk'): Promise<void> {
  await db.query(
    `INSERT INTO exercise_cache (cache_key, context_key, exercise_type, exercise_data, user_context_hash, difficulty,
       topics, usage_count, last_used_at, created_at, expires_at)
     SELECT encode(sha256(convert_to($2 || i, 'UTF8')), 'hex'), encode(sha256(convert_to($2 || i, 'UTF8')), 'hex'),
            $2, jsonb_build_object('n', i), md5(i::text), 1 + i % 5, ARRAY['bulk'], i % 7,
            now() - i * interval '1 second', now() - interval '1 day', now() + interval '1 day'
     FROM generate_series(1, $1::int) AS i`,
    [count, exerciseType],
  );
}

export async function clearCache(db: Queryable): Promise<void> {
  await db.query('TRUNCATE exercise_cache, exercise_cache_lookup_stats');
}

export async function cacheKeys(db: Queryable, where = 'true'): Promise<string[]> {
  const { rows } = await db.query<{ cache_key: string }>(`SELECT cache_key FROM exercise_cache WHERE ${where} ORDER BY cache_key`);
  return rows.map((r) => r.cache_key);
}

/**
 * Moves an entry's expiry `secondsAgo` into the past (stored an hour before that, so the
 * expires_at > created_at CHECK holds): an expired entry, for stale-answer tests.
 */
export async function expireEntry(db: Queryable, key: string, secondsAgo: number): Promise<void> {
  await db.query(
    `UPDATE exercise_cache SET created_at = now() - make_interval(secs => $2 + 3600), expires_at = now() - make_interval(secs => $2) WHERE cache_key = $1`,
    [key, secondsAgo],
  );
}
