import { insertExercise } from '../support/seed';
import { TestDatabase, createTestDatabase } from '../support/test-database';

const CHECK_VIOLATION = '23514';
const UNIQUE_VIOLATION = '23505';

describe('exercise_cache schema objects', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    // drop() ends the pool, then drops the database WITH (FORCE): a pooled connection still closing at
    // that moment reports "terminating connection due to administrator command", which is no failure here
    db.pool.on('error', () => undefined);
  });
  afterAll(() => db.drop());

  describe('table exercise_cache', () => {
    it('has every column of the guide with its type', async () => {
      const { rows } = await db.pool.query<{ column_name: string; data_type: string }>(
        `SELECT attname AS column_name, format_type(atttypid, atttypmod) AS data_type
         FROM pg_attribute WHERE attrelid = 'exercise_cache'::regclass AND attnum > 0 AND NOT attisdropped`,
      );
      const types = Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
      expect(types).toMatchObject({
        id: 'uuid',
        cache_key: 'character varying(64)',
        exercise_type: 'character varying(50)',
        exercise_data: 'jsonb',
        user_context_hash: 'character varying(64)',
        difficulty: 'integer',
        topics: 'text[]',
        usage_count: 'integer',
        last_used_at: 'timestamp(6) with time zone',
        created_at: 'timestamp(6) with time zone',
        expires_at: 'timestamp(6) with time zone',
        generation_cost: 'numeric(10,6)',
        generation_time_ms: 'integer',
      });
    });

    it('fills id, topics, usage_count, timestamps and generation_cost with their defaults', async () => {
      const { rows } = await db.pool.query(
        `INSERT INTO exercise_cache (cache_key, context_key, exercise_type, exercise_data, user_context_hash, difficulty, expires_at)
         VALUES ('defaults-key', 'defaults-context', 'quiz', '{}', 'hash', 2, now() + interval '1 hour')
         RETURNING id, topics, usage_count, last_used_at IS NOT NULL AS used, created_at IS NOT NULL AS created, generation_cost`,
      );
      expect(rows[0]).toMatchObject({ topics: [], usage_count: 0, used: true, created: true, generation_cost: '0.003000' });
      expect(rows[0].id).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('indexes', () => {
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

    it('indexes the columns each guide index is for', async () => {
      const { rows } = await db.pool.query<{ indexname: string; indexdef: string }>(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'exercise_cache'",
      );
      const definition = Object.fromEntries(rows.map((r) => [r.indexname, r.indexdef.replace(/^.* USING /, '')]));
      expect(definition).toMatchObject({
        idx_exercise_cache_key: 'btree (cache_key)',
        idx_exercise_type_difficulty: 'btree (exercise_type, difficulty)',
        idx_exercise_expires_at: 'btree (expires_at)',
        idx_exercise_last_used: 'btree (last_used_at, usage_count)',
        idx_exercise_usage_count: 'btree (usage_count DESC)',
        idx_exercise_lookup: 'btree (context_key, variant)',
        idx_exercise_active: 'btree (exercise_type, expires_at)',
        idx_exercise_topics: 'gin (topics)',
        idx_exercise_context_hash: 'btree (user_context_hash)',
      });
    });

    it('rejects a second row with the same cache_key', async () => {
      await insertExercise(db.pool, { cacheKey: 'same-key' });
      await expect(insertExercise(db.pool, { cacheKey: 'same-key' })).rejects.toMatchObject({
        code: UNIQUE_VIOLATION,
        constraint: 'idx_exercise_cache_key',
      });
    });
  });

  describe('functions', () => {
    it.each([
      ['cleanup_expired_exercises', '', 'integer'],
      ['evict_lru_exercises', 'max_entries integer DEFAULT 10000', 'integer'],
      ['get_exercise_cache_stats', '', 'TABLE(exercise_type character varying'],
      ['get_overall_cache_stats', '', 'TABLE(total_entries bigint'],
      ['get_popular_exercises', '"limit" integer DEFAULT 10', 'TABLE(cache_key character varying'],
      ['get_lru_exercises', '"limit" integer DEFAULT 10', 'TABLE(cache_key character varying'],
      ['refresh_exercise_cache_metrics', '', 'void'],
    ])('has %s(%s)', async (name, args, result) => {
      const { rows } = await db.pool.query<{ args: string; result: string }>(
        `SELECT pg_get_function_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result
         FROM pg_proc p WHERE p.proname = $1 AND p.pronamespace = 'public'::regnamespace`,
        [name],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].args).toBe(args);
      expect(rows[0].result.startsWith(result)).toBe(true);
    });
  });

  describe('views', () => {
    it.each([
      ['exercise_cache_stats', ['exercise_type', 'cache_hit_rate', 'estimated_cost_saved', 'active_entries', 'avg_variants_per_context']],
      ['exercise_cache_overview', ['cache_hit_rate', 'total_entries', 'active_entries', 'expired_entries', 'total_cost_saved']],
      ['expired_exercises', ['id', 'cache_key', 'exercise_type', 'expires_at', 'expired_for']],
    ])('has view %s with columns %j', async (view, columns) => {
      const { rows } = await db.pool.query<{ column_name: string }>(
        `SELECT a.attname AS column_name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relname = $1 AND c.relkind = 'v' AND a.attnum > 0`,
        [view],
      );
      expect(rows.map((r) => r.column_name)).toEqual(expect.arrayContaining(columns));
    });

    it('has materialized view exercise_cache_daily_metrics with the daily columns', async () => {
      const { rows } = await db.pool.query<{ attname: string }>(
        `SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relname = 'exercise_cache_daily_metrics' AND c.relkind = 'm' AND a.attnum > 0 ORDER BY a.attnum`,
      );
      expect(rows.map((r) => r.attname)).toEqual(
        expect.arrayContaining([
          'date', 'exercise_type', 'difficulty', 'entries_created', 'total_accesses', 'total_cost', 'cost_saved',
          'avg_generation_time_ms', 'hits', 'misses', 'hit_rate',
        ]),
      );
    });

    it('gives the materialized view the unique index that REFRESH ... CONCURRENTLY needs', async () => {
      const { rows } = await db.pool.query<{ name: string; unique: boolean; partial: boolean; columns: string }>(
        `SELECT i.relname AS name, x.indisunique AS unique, x.indpred IS NOT NULL AS partial,
                pg_get_indexdef(x.indexrelid) AS columns
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         WHERE x.indrelid = 'exercise_cache_daily_metrics'::regclass`,
      );
      expect(rows).toEqual([
        expect.objectContaining({ name: 'idx_exercise_cache_daily_metrics_key', unique: true, partial: false }),
      ]);
      expect(rows[0].columns).toMatch(/\(date, exercise_type, difficulty\)$/);
    });
  });

  describe('CHECK constraints', () => {
    it.each([0, 6, -1])('rejects difficulty %i', async (difficulty) => {
      await expect(insertExercise(db.pool, { difficulty })).rejects.toMatchObject({
        code: CHECK_VIOLATION,
        constraint: 'exercise_cache_difficulty_check',
      });
    });

    it.each([1, 5])('accepts difficulty %i', async (difficulty) => {
      await expect(insertExercise(db.pool, { difficulty })).resolves.toHaveLength(64);
    });

    it('rejects expires_at equal to created_at', async () => {
      const at = new Date('2026-01-01T00:00:00Z');
      await expect(insertExercise(db.pool, { createdAt: at, expiresAt: at })).rejects.toMatchObject({
        code: CHECK_VIOLATION,
        constraint: 'exercise_cache_expiry_check',
      });
    });

    it('rejects expires_at before created_at', async () => {
      await expect(
        insertExercise(db.pool, { createdAt: new Date('2026-01-02T00:00:00Z'), expiresAt: new Date('2026-01-01T00:00:00Z') }),
      ).rejects.toMatchObject({ code: CHECK_VIOLATION, constraint: 'exercise_cache_expiry_check' });
    });

    it('rejects moving expires_at back before created_at with an UPDATE', async () => {
      const key = await insertExercise(db.pool);
      await expect(
        db.pool.query("UPDATE exercise_cache SET expires_at = created_at - interval '1 second' WHERE cache_key = $1", [key]),
      ).rejects.toMatchObject({ code: CHECK_VIOLATION, constraint: 'exercise_cache_expiry_check' });
    });
  });
});
