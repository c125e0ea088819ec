import type { Pool } from 'pg';
import type { EntryToStore } from '../src/cache/cache-entry';
import { ExerciseContext, canonicalize, keyOfCanonical, userContextHashFor } from '../src/cache/cache-key';
import type { ExerciseCacheRepository } from '../src/cache/exercise-cache.repository';

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

/** The context of the n-th POST of the write runs: never seeded, so every POST stores a new entry. */
export function postedContext(n: number): ExerciseContext {
  return { type: 'bench_write', difficulty: 1 + (n % 5), topics: [`write-${n}`, `area-${n % 97}`] };
}

/** The entry the seed stores for context number i, as the service would store it (variant 1). */
function seededEntry(i: number): EntryToStore {
  const canonical = canonicalize(seededContext(i));
  const key = keyOfCanonical(canonical, 1);
  return {
    key,
    contextKey: key,
    variant: 1,
    exerciseType: canonical.type,
    difficulty: canonical.difficulty,
    topics: canonical.topics,
    userContextHash: userContextHashFor(canonical),
    exerciseJson: JSON.stringify(exerciseFor(i)),
    ttlSeconds: 7 * 24 * 3600,
    generationCost: 0.003,
    generationTimeMs: 1500,
  };
}

/** Seeds `count` valid entries through the cache's own bulk insert, 10,000 rows per statement. */
export async function seedEntries(repository: Pick<ExerciseCacheRepository, 'insertMany'>, count: number): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    const batch: EntryToStore[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) batch.push(seededEntry(i));
    await repository.insertMany(batch);
  }
}

/**
 * Runs a bulk seed with the table's secondary indexes dropped and rebuilds them afterwards from
 * their own definitions, with a larger maintenance_work_mem: a million rows then take seconds
 * instead of minutes of incremental index inserts. The rebuilt indexes are densely packed, a
 * little tidier than ones grown by inserts. `table` is the cache's own qualified name of the table.
 */
export async function withIndexesRebuilt<T>(pool: Pool, table: string, seed: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ name: string; definition: string }>(
      `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition FROM pg_index
       WHERE indrelid = $1::regclass AND NOT indisprimary`,
      [table],
    );
    for (const index of rows) await client.query(`DROP INDEX ${index.name}`);
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
