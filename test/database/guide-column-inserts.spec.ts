import { cacheKeyFor, userContextHashFor } from '../../src/cache/cache-key';
import { insertExercise } from '../support/seed';
import { TestDatabase, createTestDatabase } from '../support/test-database';

/** An INSERT as an application written against the guide makes it: the guide's columns only. */
async function insertGuideRow(db: TestDatabase, cacheKey: string, type: string, difficulty: number, topics: string[]) {
  const { rows } = await db.pool.query(
    `INSERT INTO exercise_cache (cache_key, exercise_type, exercise_data, user_context_hash, difficulty, topics, usage_count,
       last_used_at, created_at, expires_at, generation_cost, generation_time_ms)
     VALUES ($1, $2, '{"prompt":"guide"}', 'the-guide-hash', $3, $4, 0, now(), now(), now() + interval '24 hours', 0.003, 1200)
     RETURNING cache_key, context_key, variant, user_context_hash, topics`,
    [cacheKey, type, difficulty, topics],
  );
  return rows[0];
}

describe('a row inserted with only the guide columns', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('is accepted, keeps its cache_key, and gets the context key and context hash this project computes', async () => {
    const context = { type: 'contextual_fill', difficulty: 3, topics: ['colors', 'anatomy'] };
    expect(await insertGuideRow(db, 'guide-own-key-1', context.type, context.difficulty, context.topics)).toEqual({
      cache_key: 'guide-own-key-1',
      context_key: cacheKeyFor(context),
      variant: 1,
      user_context_hash: userContextHashFor(context),
      topics: ['colors', 'anatomy'],
    });
  });

  it('takes the lowest variant slot its context leaves free', async () => {
    const context = { type: 'visual_match', difficulty: 2, topics: ['animals'] };
    await insertExercise(db.pool, { cacheKey: cacheKeyFor(context), contextKey: cacheKeyFor(context), variant: 1, exerciseType: 'visual_match' });

    expect((await insertGuideRow(db, 'guide-own-key-2', context.type, context.difficulty, context.topics)).variant).toBe(2);
    expect((await insertGuideRow(db, 'guide-own-key-3', context.type, context.difficulty, context.topics)).variant).toBe(3);
  });

  it.each([
    [['Colors', ' anatomy ', 'colors']],
    [[]],
    [['Zebra', 'apple', 'Mango']],
    [['Été', 'ÉTÉ', 'été ', 'über']],
    [['say "hi"', 'back\\slash', 'a/b', 'ünïcödé', 'çà']],
    [['e\u0301clair', 'éclair']], // decomposed and composed spellings are one topic
  ])('computes the same context key as cacheKeyFor for topics %j', async (topics) => {
    const { rows } = await db.pool.query('SELECT cache_context_key($1, $2, $3) AS key, cache_user_context_hash($2, $3) AS hash', [
      'quiz',
      4,
      topics,
    ]);
    expect(rows[0]).toEqual({
      key: cacheKeyFor({ type: 'quiz', difficulty: 4, topics }),
      hash: userContextHashFor({ type: 'quiz', difficulty: 4, topics }),
    });
  });

  it("leaves the service's own inserts as they are", async () => {
    const { rows } = await db.pool.query(
      `INSERT INTO exercise_cache (cache_key, context_key, variant, exercise_type, exercise_data, user_context_hash, difficulty, topics, expires_at)
       VALUES ('own-key', 'own-context', 4, 'quiz', '{}', 'own-hash', 1, ARRAY['x'], now() + interval '1 hour')
       RETURNING context_key, variant, user_context_hash`,
    );
    expect(rows[0]).toEqual({ context_key: 'own-context', variant: 4, user_context_hash: 'own-hash' });
  });
});
