import { TestDatabase, createTestDatabase } from '../support/test-database';

describe('exercise_cache schema objects', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(() => db.drop());

  it('has the nine indexes of the guide, topics as GIN', async () => {
    const { rows } = await db.pool.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'exercise_cache'",
    );
    const names = rows.map((r) => r.indexname);
    for (const name of [
      'idx_exercise_cache_key', 'idx_exercise_type_difficulty', 'idx_exercise_expires_at', 'idx_exercise_last_used',
      'idx_exercise_usage_count', 'idx_exercise_lookup', 'idx_exercise_active', 'idx_exercise_topics', 'idx_exercise_context_hash',
    ]) {
      expect(names).toContain(name);
    }
    expect(rows.find((r) => r.indexname === 'idx_exercise_topics')?.indexdef).toMatch(/USING gin/);
    expect(rows.find((r) => r.indexname === 'idx_exercise_cache_key')?.indexdef).toMatch(/UNIQUE/);
    // the unique key is indexed once, not twice
    expect(rows.filter((r) => /\(cache_key\)$/.test(r.indexdef))).toHaveLength(1);
  });
});
