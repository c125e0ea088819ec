import { Pool } from 'pg';
import type { CachedEntry } from '../../src/cache/cache-entry';
import { ExerciseCacheRepository } from '../../src/cache/exercise-cache.repository';
import { OutcomeStatisticsRepository } from '../../src/cache/outcome-statistics.repository';
import { UsageBuffer } from '../../src/cache/usage-buffer';
import { DEFAULT_CACHE_SETTINGS } from '../../src/cache/cache-settings';
import { cacheSqlNames } from '../../src/database/sql-names';
import { TestDatabase, createTestDatabase } from '../support/test-database';

/** Lookup outcomes per namespace and generator version: the usage buffer writes them, the statistics read them. */
describe(OutcomeStatisticsRepository.name, () => {
  let db: TestDatabase;
  let pool: Pool;
  let repository: ExerciseCacheRepository;
  let statistics: OutcomeStatisticsRepository;
  let usage: UsageBuffer;
  const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

  const entry = (key: string, namespace?: string, generatorVersion?: string): CachedEntry => ({
    key: key.padEnd(64, '0'),
    contextKey: key.padEnd(64, '0'),
    variant: 1,
    exerciseType: 'outcomes',
    difficulty: 2,
    topics: ['x'],
    namespace,
    generatorVersion,
    exercise: {},
    usageCount: 0,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 60_000),
    generationCost: 0.01,
    staleWhileRevalidateSeconds: 0,
    staleGraceSeconds: 0,
  });

  /** Stores a row, so the namespace and version exist (lookups alone cannot invent groups). */
  const store = (stored: CachedEntry) =>
    repository.upsert({
      key: stored.key,
      contextKey: stored.contextKey,
      variant: 1,
      exerciseType: stored.exerciseType,
      difficulty: stored.difficulty,
      topics: stored.topics,
      namespace: stored.namespace,
      generatorVersion: stored.generatorVersion,
      userContextHash: stored.key,
      exerciseJson: '{}',
      ttlSeconds: 60,
      generationCost: stored.generationCost,
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 3 });
    repository = new ExerciseCacheRepository(pool, cacheSqlNames());
    statistics = new OutcomeStatisticsRepository(pool, cacheSqlNames());
    usage = new UsageBuffer(repository, DEFAULT_CACHE_SETTINGS, {}, quiet);
    const school = entry('a1', 'school-1', 'v1');
    const schoolV2 = entry('a2', 'school-1', 'v2');
    const plain = entry('b1');
    for (const stored of [school, schoolV2, plain]) await store(stored);
    for (let i = 0; i < 3; i++) usage.recordHit(school);
    usage.recordHit(school, 'stale');
    usage.recordHit(school, 'coalesced');
    usage.recordHit(schoolV2, 'near_hit');
    usage.recordMiss('outcomes', 2, 'school-1', 'v2');
    usage.recordHit(plain);
    usage.recordHit(plain, 'stale');
    usage.recordMiss('outcomes', 2);
    // Names no entry has: counted under "(unknown)", so lookups alone cannot add rows without bound.
    usage.recordMiss('outcomes', 2, 'invented-namespace');
    usage.recordMiss('outcomes', 2, undefined, 'invented-version');
    await usage.flush();
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('counts hit, near_hit, stale, coalesced and miss per namespace; the hit rate is exact hits over all lookups', async () => {
    const rows = await statistics.byGroup('namespace');
    const school = rows.find((row) => row.name === 'school-1');
    expect(school).toEqual({
      name: 'school-1',
      totalEntries: 2,
      activeEntries: 2,
      expiredEntries: 0,
      totalUsage: 6,
      hits: 3,
      nearHits: 1,
      stale: 1,
      coalesced: 1,
      misses: 1,
      totalLookups: 7,
      cacheHitRate: 42.86,
      staleRate: 14.29,
      costSaved: 0.06,
    });
    expect(rows.find((row) => row.name === null)).toMatchObject({ totalEntries: 1, hits: 1, stale: 1, misses: 2, totalLookups: 4, cacheHitRate: 25 });
    expect(rows.find((row) => row.name === '(unknown)')).toMatchObject({ totalEntries: 0, misses: 1 });
    expect(rows.map((row) => row.name)).not.toContain('invented-namespace');
  });

  it('counts per generator version: the version of the entry served, or the one a miss asked for', async () => {
    const rows = await statistics.byGroup('generator_version');
    expect(rows.find((row) => row.name === 'v1')).toMatchObject({ totalEntries: 1, hits: 3, stale: 1, coalesced: 1, misses: 0, totalLookups: 5, cacheHitRate: 60 });
    expect(rows.find((row) => row.name === 'v2')).toMatchObject({ totalEntries: 1, nearHits: 1, misses: 1, totalLookups: 2, cacheHitRate: 0 });
    expect(rows.find((row) => row.name === '(unknown)')).toMatchObject({ misses: 1 });
  });

  it('narrows every grouping by namespace and generator version', async () => {
    expect((await statistics.byGroup('generator_version', { namespace: 'school-1' })).map((row) => row.name).sort()).toEqual(['v1', 'v2']);
    expect(await statistics.byGroup('namespace', { generatorVersion: 'v2' })).toEqual([expect.objectContaining({ name: 'school-1', totalEntries: 1, totalLookups: 2 })]);
    expect(await statistics.overview({ namespace: 'school-1', generatorVersion: 'v1' })).toMatchObject({
      namespace: 'school-1',
      generatorVersion: 'v1',
      totalEntries: 1,
      totalLookups: 5,
      hits: 3,
      stale: 1,
    });
    expect(await statistics.byType({ namespace: 'school-1' })).toEqual([expect.objectContaining({ exerciseType: 'outcomes', totalEntries: 2, totalLookups: 7 })]);
    expect(await statistics.overview({ namespace: 'nobody-here' })).toMatchObject({ totalEntries: 0, totalLookups: 0, cacheHitRate: 0 });
  });

  it('adds up days, live, for the dashboard', async () => {
    const days = await statistics.daily(1, { namespace: 'school-1' });
    expect(days).toEqual([expect.objectContaining({ date: new Date().toISOString().slice(0, 10), hits: 3, stale: 1, totalLookups: 7 })]);
  });

  it("keeps the guide's totals: overview and per-type views count stale and coalesced answers as lookups, never as hits", async () => {
    const { rows } = await pool.query('SELECT total_hits, total_lookups, cache_hit_rate, stale, coalesced FROM exercise_cache_overview');
    expect(rows[0]).toEqual({ total_hits: '4', total_lookups: '12', cache_hit_rate: '33.33', stale: '2', coalesced: '1' });
    const types = await pool.query("SELECT hits, total_lookups, stale, coalesced FROM exercise_cache_stats WHERE exercise_type = 'outcomes'");
    expect(types.rows[0]).toEqual({ hits: '4', total_lookups: '12', stale: '2', coalesced: '1' });
  });
});
