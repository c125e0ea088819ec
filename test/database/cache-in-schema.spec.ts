import { Pool } from 'pg';
import { CacheNotMigratedError } from '../../src/cache/cache-not-migrated.error';
import { InvalidCacheRequestError } from '../../src/cache/context-rules';
import { applyMigrations } from '../../src/database/migrations';
import { OpenedExerciseCache, openExerciseCache } from '../../src/library/open-exercise-cache';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';

/**
 * The framework-free cache with the schema option, on an application's own pg Pool whose
 * connections keep their default search_path (public holds a cache of its own as a decoy): two
 * caches in two schemas share the pool, its connections and their prepared statements.
 */
describe('the cache core with the schema option, on a caller pool', () => {
  let db: TestDatabase;
  let pool: Pool;
  const opened: OpenedExerciseCache[] = [];
  const open = async (schema?: string) => {
    const cache = openExerciseCache({ pool, schema, logger: false, usageFlushIntervalMs: 20 });
    opened.push(cache);
    await cache.start();
    return cache.core.service;
  };

  beforeAll(async () => {
    db = await createEmptyDatabase();
    await applyMigrations(db.url); // public: the decoy
    await applyMigrations(db.url, { schema: 'cache_a' });
    await applyMigrations(db.url, { schema: 'cache_b' });
    pool = new Pool({ connectionString: db.url, max: 1 }); // one connection: both caches prepare on it
  });
  afterAll(async () => {
    for (const cache of opened) await cache.close();
    await pool.end();
    await db.drop();
  });

  it('keeps each cache in its own schema through one connection, and public untouched', async () => {
    const a = await open('cache_a');
    const b = await open('cache_b');
    const context = { type: 'contextual_fill', difficulty: 3, topics: ['colors', 'anatomy'] };

    await a.set(context, { prompt: 'from a' });
    expect(await a.get(context)).toEqual({ prompt: 'from a' });
    expect(await b.get(context)).toBeNull();
    await b.set(context, { prompt: 'from b' });
    expect(await b.get(context)).toEqual({ prompt: 'from b' });
    expect(await a.get(context)).toEqual({ prompt: 'from a' });

    const count = async (schema: string) => (await db.pool.query(`SELECT count(*)::int AS n FROM ${schema}.exercise_cache`)).rows[0].n;
    expect([await count('cache_a'), await count('cache_b'), await count('public')]).toEqual([1, 1, 0]);
    expect(await a.cleanupExpired()).toBe(0);
    expect(await b.stats()).toMatchObject({ totalEntries: 1 });
    const { rows } = await pool.query('SHOW search_path');
    expect(rows[0].search_path).toBe('"$user", public');
  });

  it('says how to migrate when the schema was never migrated', async () => {
    const missing = await open('never_migrated');
    await expect(missing.get({ type: 'quiz', difficulty: 1, topics: [] })).rejects.toThrow(CacheNotMigratedError);
  });

  it('refuses a schema that is not a plain identifier, naming the option', () => {
    expect(() => openExerciseCache({ pool, schema: 'Bad Schema' })).toThrow(InvalidCacheRequestError);
    expect(() => openExerciseCache({ pool, schema: 'Bad Schema' })).toThrow(/schema must be 1\.\.63 characters/);
  });
});
