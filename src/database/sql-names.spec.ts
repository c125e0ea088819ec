import { cacheSqlNames } from './sql-names';

describe(cacheSqlNames.name, () => {
  it('quotes and qualifies every name with the schema', () => {
    const names = cacheSqlNames('learning_cache');
    expect(names.exerciseCache).toBe('"learning_cache"."exercise_cache"');
    expect(names.evictLru).toBe('"learning_cache"."evict_lru_exercises"');
  });

  it('keeps the plain statement names in public and gives every other schema names of its own, within 63 bytes', () => {
    expect(cacheSqlNames().statement('exercise_cache_upsert')).toBe('exercise_cache_upsert');
    const a = cacheSqlNames('a'.repeat(63)).statement('exercise_cache_find_live_variants');
    const b = cacheSqlNames('a'.repeat(62) + 'b').statement('exercise_cache_find_live_variants');
    expect(a).not.toBe(b);
    expect(a).not.toBe('exercise_cache_find_live_variants');
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
  });

  it('refuses a name that is not a plain identifier', () => {
    expect(() => cacheSqlNames('x"; DROP TABLE users; --')).toThrow(/schema must be 1\.\.63 characters/);
  });
});
