import type { PoolClient } from 'pg';
import { cacheKeys, clearCache, expired, insertExercises, insertManyActiveExercises, secondsAgo } from '../support/seed';
import { TestDatabase, createTestDatabase } from '../support/test-database';

const INVALID_PARAMETER_VALUE = '22023';

describe('maintenance functions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    // drop() ends the pool, then drops the database WITH (FORCE): a pooled connection still closing at
    // that moment reports "terminating connection due to administrator command", which is no failure here
    db.pool.on('error', () => undefined);
  });
  afterAll(() => db.drop());
  beforeEach(() => clearCache(db.pool));

  const scalar = async <T>(sql: string, params: unknown[] = []): Promise<T> => {
    const { rows } = await db.pool.query(sql, params);
    return Object.values(rows[0])[0] as T;
  };

  /** Runs body in one transaction (now() is fixed for all of it), then rolls back. */
  async function inTransaction(body: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await body(client);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  describe('cleanup_expired_exercises()', () => {
    it('deletes only expired rows and returns the count', async () => {
      const active = await insertExercises(db.pool, [{}, {}, { expiresAt: secondsAgo(-120) }]);
      await insertExercises(db.pool, [expired(), expired({ usageCount: 50, lastUsedAt: secondsAgo(1) })]);

      expect(await scalar('SELECT cleanup_expired_exercises()')).toBe(2);
      expect(await cacheKeys(db.pool)).toEqual([...active].sort());
    });

    it('returns 0 when nothing has expired', async () => {
      await insertExercises(db.pool, [{}, {}]);
      expect(await scalar('SELECT cleanup_expired_exercises()')).toBe(0);
      expect(await cacheKeys(db.pool)).toHaveLength(2);
    });

    it('treats expires_at = now() as expired, like expired_exercises and evict_lru_exercises do', async () => {
      await inTransaction(async (client) => {
        await client.query(
          `INSERT INTO exercise_cache (cache_key, context_key, exercise_type, exercise_data, user_context_hash, difficulty, created_at, expires_at)
           VALUES ('ends-now', 'ends-now', 'quiz', '{}', 'h', 1, now() - interval '1 hour', now()),
                  ('ends-later', 'ends-later', 'quiz', '{}', 'h', 1, now() - interval '1 hour', now() + interval '1 microsecond')`,
        );
        const listed = await client.query('SELECT cache_key FROM expired_exercises');
        expect(listed.rows).toEqual([{ cache_key: 'ends-now' }]);
        expect((await client.query('SELECT evict_lru_exercises(0) AS n')).rows[0].n).toBe(1); // only ends-later is active
        expect((await client.query('SELECT cleanup_expired_exercises() AS n')).rows[0].n).toBe(1);
        expect((await client.query('SELECT count(*)::int AS n FROM exercise_cache')).rows[0].n).toBe(0);
      });
    });
  });

  describe('evict_lru_exercises(max_entries)', () => {
    it('keeps exactly max_entries active rows, removing the least recently used first', async () => {
      // key i was last used i minutes ago
      const active = await insertExercises(db.pool, [1, 2, 3, 4, 5, 6].map((i) => ({ lastUsedAt: secondsAgo(60 * i) })));
      const expiredKeys = await insertExercises(db.pool, [expired(), expired()]);

      expect(await scalar('SELECT evict_lru_exercises(4)')).toBe(2);
      expect(await cacheKeys(db.pool, 'expires_at > now()')).toEqual(active.slice(0, 4).sort());
      expect(await cacheKeys(db.pool, 'expires_at <= now()')).toEqual([...expiredKeys].sort());
    });

    it('breaks last_used_at ties by removing the lower usage_count first', async () => {
      const at = secondsAgo(600);
      const keys = await insertExercises(db.pool, [3, 1, 4, 2].map((usageCount) => ({ usageCount, lastUsedAt: at })));
      const [three, , four] = keys;

      expect(await scalar('SELECT evict_lru_exercises(2)')).toBe(2);
      expect(await cacheKeys(db.pool)).toEqual([three, four].sort());
    });

    it('prefers recency over usage_count: a heavily used but older entry goes first', async () => {
      const [, recent] = await insertExercises(db.pool, [
        { usageCount: 1000, lastUsedAt: secondsAgo(3600) },
        { usageCount: 0, lastUsedAt: secondsAgo(1) },
      ]);

      expect(await scalar('SELECT evict_lru_exercises(1)')).toBe(1);
      expect(await cacheKeys(db.pool)).toEqual([recent]);
    });

    it('never touches expired rows, even with max_entries 0', async () => {
      await insertExercises(db.pool, [{}, {}, {}]);
      // expired rows used long ago would be the first victims if eviction looked at them
      const expiredKeys = await insertExercises(db.pool, [expired({ lastUsedAt: secondsAgo(40 * 3600) }), expired()]);

      expect(await scalar('SELECT evict_lru_exercises(0)')).toBe(3);
      expect(await cacheKeys(db.pool)).toEqual([...expiredKeys].sort());
    });

    it('deletes nothing while the active rows fit, however many expired rows there are', async () => {
      await insertExercises(db.pool, [{}, {}, {}, expired(), expired(), expired()]);
      expect(await scalar('SELECT evict_lru_exercises(3)')).toBe(0);
      expect(await scalar('SELECT evict_lru_exercises()')).toBe(0); // default 10000
      expect(await cacheKeys(db.pool)).toHaveLength(6);
    });

    it.each([[-1], [null]])('rejects max_entries %p', async (maxEntries) => {
      await insertExercises(db.pool, [{}]);
      await expect(db.pool.query('SELECT evict_lru_exercises($1)', [maxEntries])).rejects.toMatchObject({
        code: INVALID_PARAMETER_VALUE,
        message: expect.stringMatching(/max_entries must be a non-negative integer/),
      });
      expect(await cacheKeys(db.pool)).toHaveLength(1);
    });

    it('removes exactly the candidates get_lru_exercises lists, in that order', async () => {
      const at = secondsAgo(300);
      await insertExercises(db.pool, [
        { lastUsedAt: at, usageCount: 2 },
        { lastUsedAt: at, usageCount: 1 },
        { lastUsedAt: secondsAgo(30), usageCount: 0 },
        { lastUsedAt: secondsAgo(900), usageCount: 9 },
        { lastUsedAt: secondsAgo(5), usageCount: 3 },
        expired({ lastUsedAt: secondsAgo(99999) }),
      ]);
      const { rows } = await db.pool.query<{ cache_key: string }>('SELECT cache_key FROM get_lru_exercises(3)');
      const candidates = rows.map((r) => r.cache_key);
      const before = await cacheKeys(db.pool);

      expect(await scalar('SELECT evict_lru_exercises(2)')).toBe(3);
      const after = await cacheKeys(db.pool);
      expect(before.filter((key) => !after.includes(key)).sort()).toEqual([...candidates].sort());
    });

    it('walks idx_exercise_last_used for the victims instead of sorting the whole table (20k rows)', async () => {
      await insertManyActiveExercises(db.pool, 20000);
      await db.pool.query('ANALYZE exercise_cache');
      const client = await db.pool.connect();
      const plans: string[] = [];
      client.on('notice', (notice) => plans.push(notice.message ?? ''));
      try {
        // auto_explain reports the plans of the statements inside the function, as it really runs them
        await client.query("LOAD 'auto_explain'");
        await client.query('SET auto_explain.log_min_duration = 0');
        await client.query('SET auto_explain.log_nested_statements = on');
        await client.query("SET auto_explain.log_level = 'notice'");
        await client.query('BEGIN');
        const { rows } = await client.query('SELECT evict_lru_exercises(19000) AS deleted');
        await client.query('ROLLBACK');
        expect(rows[0].deleted).toBe(1000);
      } finally {
        client.release(true); // the session has auto_explain loaded: do not hand it back to the pool
      }
      const nested = plans.filter((plan) => /exercise_cache/.test(plan) && !/Query Text: SELECT evict_lru_exercises/.test(plan));
      const deletePlan = nested.find((plan) => /Query Text: DELETE/.test(plan));
      expect(deletePlan).toMatch(/Index Scan using idx_exercise_last_used/);
      expect(deletePlan).not.toMatch(/Seq Scan/);
      expect(deletePlan).not.toMatch(/(^|->)\s*Sort\s+\(/m); // an Incremental Sort of ties is fine, a full Sort is not
      // the whole table is read at most once (counting the active rows)
      expect(nested.join('\n').match(/Seq Scan on exercise_cache/g)?.length ?? 0).toBeLessThanOrEqual(1);
    });
  });

  describe('get_popular_exercises(limit)', () => {
    it('lists active entries by usage_count, most used first, ties by most recent use', async () => {
      const [a, b, c, d] = await insertExercises(db.pool, [
        { usageCount: 5, lastUsedAt: secondsAgo(100) },
        { usageCount: 9, lastUsedAt: secondsAgo(100) },
        { usageCount: 5, lastUsedAt: secondsAgo(10) },
        { usageCount: 1, lastUsedAt: secondsAgo(1) },
      ]);
      await insertExercises(db.pool, [expired({ usageCount: 100 })]);

      const { rows } = await db.pool.query('SELECT cache_key, usage_count FROM get_popular_exercises(10)');
      expect(rows.map((r) => r.cache_key)).toEqual([b, c, a, d]);
    });

    it('returns at most limit rows, 10 by default, none for 0 or a negative limit', async () => {
      await insertExercises(db.pool, Array.from({ length: 12 }, (_, i) => ({ usageCount: i })));
      const count = (sql: string) => db.pool.query(sql).then((r) => r.rowCount);

      expect(await count('SELECT * FROM get_popular_exercises(3)')).toBe(3);
      expect(await count('SELECT * FROM get_popular_exercises()')).toBe(10);
      expect(await count('SELECT * FROM get_popular_exercises(0)')).toBe(0);
      expect(await count('SELECT * FROM get_popular_exercises(-1)')).toBe(0);
      const { rows } = await db.pool.query('SELECT usage_count FROM get_popular_exercises(3)');
      expect(rows.map((r) => r.usage_count)).toEqual([11, 10, 9]);
    });
  });

  describe('get_lru_exercises(limit)', () => {
    it('lists active entries least recently used first, ties by lower usage_count', async () => {
      const at = secondsAgo(500);
      const [a, b, c, d] = await insertExercises(db.pool, [
        { lastUsedAt: secondsAgo(50), usageCount: 0 },
        { lastUsedAt: at, usageCount: 7 },
        { lastUsedAt: at, usageCount: 2 },
        { lastUsedAt: secondsAgo(5000), usageCount: 99 },
      ]);
      await insertExercises(db.pool, [expired({ lastUsedAt: secondsAgo(90000) })]);

      const { rows } = await db.pool.query('SELECT cache_key FROM get_lru_exercises(10)');
      expect(rows.map((r) => r.cache_key)).toEqual([d, c, b, a]);
    });

    it('returns at most limit rows, 10 by default', async () => {
      await insertExercises(db.pool, Array.from({ length: 12 }, (_, i) => ({ lastUsedAt: secondsAgo(i * 10) })));
      const count = (sql: string) => db.pool.query(sql).then((r) => r.rowCount);

      expect(await count('SELECT * FROM get_lru_exercises(2)')).toBe(2);
      expect(await count('SELECT * FROM get_lru_exercises()')).toBe(10);
      expect(await count('SELECT * FROM get_lru_exercises(0)')).toBe(0);
    });
  });
});
