import type { Pool } from 'pg';
import { ExerciseContext, cacheKeyFor, canonicalize, userContextHashFor } from '../src/cache/cache-key';

const TYPES = ['contextual_fill', 'multiple_choice', 'translation', 'listening', 'matching'];
const BATCH = 10_000;

/** Seeded context number i: unique by its first topic; topics are sent unsorted on purpose. */
export function seededContext(i: number): ExerciseContext {
  return { type: TYPES[i % TYPES.length], difficulty: 1 + (Math.floor(i / TYPES.length) % 5), topics: [`topic-${i}`, `area-${i % 97}`] };
}

/** A context that is never seeded. */
export function absentContext(i: number): ExerciseContext {
  return { type: TYPES[i % TYPES.length], difficulty: 1 + (i % 5), topics: [`absent-${i}`] };
}

/** An exercise of a realistic size (about 400 bytes of JSON). */
export function exerciseFor(i: number): Record<string, unknown> {
  return {
    question: `Choose the word that completes sentence number ${i}: "The sky over the harbour is ___ today."`,
    options: ['blue', 'loud', 'heavy', 'sideways'],
    answer: 'blue',
    explanation: 'Colour adjectives describe how something looks; the other options describe sound, weight or direction.',
    hints: ['Think about what you see when you look up.', 'It is a colour.'],
    seed: i,
  };
}

export function lookupPath(context: ExerciseContext): string {
  const topics = context.topics.map(encodeURIComponent).join(',');
  return `/exercise-cache?type=${encodeURIComponent(context.type)}&difficulty=${context.difficulty}&topics=${topics}`;
}

/**
 * Seeds `count` valid entries (variant 1, keys from cacheKeyFor, so the service finds them) in
 * batches of 10,000 rows, one INSERT ... SELECT FROM unnest(...) per batch.
 */
export async function seedEntries(pool: Pool, count: number): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    const end = Math.min(count, start + BATCH);
    const keys: string[] = [];
    const types: string[] = [];
    const difficulties: number[] = [];
    const topics: string[] = [];
    const hashes: string[] = [];
    const data: string[] = [];
    for (let i = start; i < end; i++) {
      const context = seededContext(i);
      const canonical = canonicalize(context);
      keys.push(cacheKeyFor(canonical));
      types.push(canonical.type);
      difficulties.push(canonical.difficulty);
      // text[][] cannot be passed ragged, so topics travel as one JSON array per row.
      topics.push(JSON.stringify(canonical.topics));
      hashes.push(userContextHashFor(canonical));
      data.push(JSON.stringify(exerciseFor(i)));
    }
    await pool.query(
      `INSERT INTO exercise_cache (cache_key, context_key, variant, exercise_type, exercise_data, user_context_hash,
         difficulty, topics, usage_count, last_used_at, created_at, expires_at, generation_cost, generation_time_ms)
       SELECT k, k, 1, t, d::jsonb, h, diff, ARRAY(SELECT jsonb_array_elements_text(tp::jsonb)), 0,
              now() - interval '1 hour', now() - interval '1 hour', now() + interval '7 days', 0.003, 1500
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[]) AS u(k, t, diff, tp, h, d)`,
      [keys, types, difficulties, topics, hashes, data],
    );
  }
}

/**
 * Runs a bulk seed with exercise_cache's secondary indexes dropped and rebuilds them afterwards
 * from their own definitions (pg_indexes), with a larger maintenance_work_mem: a million rows
 * then take seconds instead of minutes of incremental index inserts. The rebuilt indexes are
 * densely packed, a little tidier than ones grown by inserts.
 */
export async function withIndexesRebuilt<T>(pool: Pool, seed: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ name: string; definition: string }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
       WHERE schemaname = current_schema() AND tablename = 'exercise_cache' AND indexname <> 'exercise_cache_pkey'`,
    );
    for (const index of rows) await client.query(`DROP INDEX "${index.name}"`);
    try {
      return await seed();
    } finally {
      await client.query(`SET maintenance_work_mem = '256MB'`);
      for (const index of rows) await client.query(index.definition);
      await client.query('RESET maintenance_work_mem');
    }
  } finally {
    client.release();
  }
}
