import type { Pool } from 'pg';
import type { CanonicalContext, ExerciseContext } from '../../src/cache/cache-key';
import type { Exercise } from '../../src/cache/exercise-cache.service';

/**
 * The AI generator a caller would pass to getOrGenerate, as a jest mock: every call returns a new
 * exercise with a unique id, so a test can tell which generation a caller got.
 */
export function fakeGenerator(label = 'gen') {
  let calls = 0;
  return jest.fn(async (context: CanonicalContext): Promise<Exercise> => {
    calls += 1;
    return { id: `${label}-${calls}`, type: context.type, topics: context.topics, question: `question ${calls}` };
  });
}

/** A generator that holds every call until release() is called; lets a test pile up concurrent callers. */
export function gatedGenerator(label = 'gated') {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let calls = 0;
  const generate = jest.fn(async (context: CanonicalContext): Promise<Exercise> => {
    calls += 1;
    const id = `${label}-${calls}`;
    await gate;
    return { id, type: context.type, topics: context.topics };
  });
  return { generate, release: () => open() };
}

/** A context no other test uses: distinct type per label. */
export function contextFor(label: string, topics: string[] = ['colors', 'anatomy'], difficulty = 3): ExerciseContext {
  return { type: label.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 50), difficulty, topics };
}

export interface RowOf {
  cache_key: string;
  context_key: string;
  variant: number;
  exercise_data: Exercise;
  usage_count: number;
  generation_cost: string;
  generation_time_ms: number | null;
  topics: string[];
  user_context_hash: string;
  expires_at: Date;
  created_at: Date;
}

export async function rowsOf(pool: Pool, where = 'true', values: unknown[] = []): Promise<RowOf[]> {
  const { rows } = await pool.query<RowOf>(`SELECT * FROM exercise_cache WHERE ${where} ORDER BY variant, cache_key`, values);
  return rows;
}

export async function rowByKey(pool: Pool, key: string): Promise<RowOf | undefined> {
  return (await rowsOf(pool, 'cache_key = $1', [key]))[0];
}

/** Recorded lookup outcomes per type, summed over days (exercise_cache_lookup_stats). */
export async function outcomesOf(pool: Pool, exerciseType: string): Promise<{ hits: number; nearHits: number; misses: number; costSaved: number }> {
  const { rows } = await pool.query<{ hits: string; near_hits: string; misses: string; cost_saved: string }>(
    `SELECT coalesce(sum(hits), 0) AS hits, coalesce(sum(near_hits), 0) AS near_hits, coalesce(sum(misses), 0) AS misses,
            coalesce(sum(cost_saved), 0) AS cost_saved
     FROM exercise_cache_lookup_stats WHERE exercise_type = $1`,
    [exerciseType],
  );
  return { hits: Number(rows[0].hits), nearHits: Number(rows[0].near_hits), misses: Number(rows[0].misses), costSaved: Number(rows[0].cost_saved) };
}
