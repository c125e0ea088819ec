import { clearCache, expired, insertExercises, insertLookupStats, secondsAgo } from '../support/seed';
import { Pool } from 'pg';
import { applyMigrations } from '../../src/database/migrations';
import { TestDatabase, createEmptyDatabase, createTestDatabase } from '../support/test-database';

// Statements copied verbatim from the Exercise Cache Migration Guide; each must run unchanged
// against our schema and return the columns it names.

/** The guide's "Verification" section, its SQL statements. */
const VERIFICATION: [string, string, string[]][] = [
  ['Test cleanup function', 'SELECT cleanup_expired_exercises();', ['cleanup_expired_exercises']],
  ['Test eviction function', 'SELECT evict_lru_exercises(10000);', ['evict_lru_exercises']],
  ['View stats', 'SELECT * FROM exercise_cache_overview;', ['cache_hit_rate', 'total_entries', 'active_entries', 'total_cost_saved']],
];

/** The guide's "Monitoring Queries" section. */
const MONITORING: [string, string, string[]][] = [
  [
    'Check Cache Hit Rate',
    `SELECT
  cache_hit_rate,
  total_entries,
  active_entries,
  total_cost_saved
FROM exercise_cache_overview;`,
    ['cache_hit_rate', 'total_entries', 'active_entries', 'total_cost_saved'],
  ],
  [
    'Top Performing Exercise Types',
    `SELECT
  exercise_type,
  cache_hit_rate,
  estimated_cost_saved,
  active_entries
FROM exercise_cache_stats
ORDER BY cache_hit_rate DESC;`,
    ['exercise_type', 'cache_hit_rate', 'estimated_cost_saved', 'active_entries'],
  ],
  ['Most Popular Exercises', 'SELECT * FROM get_popular_exercises(10);', ['cache_key', 'exercise_type', 'usage_count', 'last_used_at']],
  ['Eviction Candidates', 'SELECT * FROM get_lru_exercises(10);', ['cache_key', 'exercise_type', 'usage_count', 'last_used_at']],
  [
    'Daily Metrics',
    `SELECT
  date,
  exercise_type,
  entries_created,
  cost_saved
FROM exercise_cache_daily_metrics
WHERE date >= CURRENT_DATE - INTERVAL '7 days'
ORDER BY date DESC, cost_saved DESC;`,
    ['date', 'exercise_type', 'entries_created', 'cost_saved'],
  ],
];

/** The guide's "Troubleshooting" section, its SQL statements. */
const TROUBLESHOOTING: [string, string, string[]][] = [
  ['Check if cache is being populated', 'SELECT COUNT(*) FROM exercise_cache WHERE expires_at > CURRENT_TIMESTAMP;', ['count']],
  ['Verify indexes exist', "SELECT indexname FROM pg_indexes WHERE tablename = 'exercise_cache';", ['indexname']],
  [
    'Check database performance',
    `EXPLAIN ANALYZE
SELECT exercise_data FROM exercise_cache
WHERE cache_key = 'test_key' AND expires_at > CURRENT_TIMESTAMP;`,
    ['QUERY PLAN'],
  ],
  ['Check current size', "SELECT pg_size_pretty(pg_total_relation_size('exercise_cache'));", ['pg_size_pretty']],
  ['Manually evict LRU entries', 'SELECT evict_lru_exercises(5000); -- Keep max 5000', ['evict_lru_exercises']],
];

/** The guide's "Scheduled Maintenance" cron jobs, the SQL each passes to psql -c. */
const SCHEDULED_MAINTENANCE: [string, string, string[]][] = [
  ['Clean expired entries', 'SELECT cleanup_expired_exercises();', ['cleanup_expired_exercises']],
  ['Evict LRU entries (keep max 10k)', 'SELECT evict_lru_exercises(10000);', ['evict_lru_exercises']],
  ['Refresh metrics view', 'SELECT refresh_exercise_cache_metrics();', ['refresh_exercise_cache_metrics']],
];

/** The guide's "Rollback" section. */
const ROLLBACK = `-- Drop materialized view
DROP MATERIALIZED VIEW IF EXISTS exercise_cache_daily_metrics;

-- Drop views
DROP VIEW IF EXISTS exercise_cache_stats;
DROP VIEW IF EXISTS exercise_cache_overview;
DROP VIEW IF EXISTS expired_exercises;

-- Drop functions
DROP FUNCTION IF EXISTS cleanup_expired_exercises();
DROP FUNCTION IF EXISTS evict_lru_exercises(INTEGER);
DROP FUNCTION IF EXISTS get_exercise_cache_stats();
DROP FUNCTION IF EXISTS get_overall_cache_stats();
DROP FUNCTION IF EXISTS get_popular_exercises(INTEGER);
DROP FUNCTION IF EXISTS get_lru_exercises(INTEGER);
DROP FUNCTION IF EXISTS refresh_exercise_cache_metrics();

-- Drop table (this will delete all cached exercises!)
DROP TABLE IF EXISTS exercise_cache;`;

/** The query psql runs for a \d-style pattern, reduced to the names it lists. */
function psqlRelationListing(relkinds: string[], pattern: string): string {
  return `SELECT c.relname AS name, c2.relname AS table_name
    FROM pg_catalog.pg_class c
    LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
    LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid
    WHERE c.relkind IN (${relkinds.map((k) => `'${k}'`).join(',')})
      AND c.relname OPERATOR(pg_catalog.~) '^(${pattern})$' COLLATE pg_catalog.default
      AND pg_catalog.pg_table_is_visible(c.oid)
    ORDER BY 1`;
}

/**
 * The default schema, from the migrated template; and a schema of the cache's own beside an
 * application's table in public, read as the guide's SQL would be run there: psql with
 * search_path set to that schema.
 */
async function migratedDatabase(schema: string): Promise<TestDatabase> {
  if (schema === 'public') return createTestDatabase();
  const empty = await createEmptyDatabase();
  await empty.pool.query('CREATE TABLE public.users (id serial PRIMARY KEY, email text NOT NULL)');
  await applyMigrations(empty.url, { schema });
  const pool = new Pool({ connectionString: empty.url, max: 4, options: `-c search_path=${schema}` });
  pool.on('error', () => undefined);
  return {
    ...empty,
    pool,
    drop: async () => {
      await pool.end();
      await empty.drop();
    },
  };
}

describe.each(['public', 'app_cache'])('the migration guide, statement by statement, search_path %s', (schema) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await migratedDatabase(schema);
    // drop() ends the pool, then drops the database WITH (FORCE): a pooled connection still closing at
    // that moment reports "terminating connection due to administrator command", which is no failure here
    db.pool.on('error', () => undefined);
  });
  afterAll(() => db.drop());

  beforeEach(async () => {
    await clearCache(db.pool);
    // lookups are recorded on the (UTC) day the active entries were created, so both meet in one daily row
    const createdAt = secondsAgo(3600);
    const day = createdAt.toISOString().slice(0, 10);
    await insertExercises(db.pool, [
      { exerciseType: 'contextual_fill', usageCount: 4, generationCost: '0.004', createdAt },
      { exerciseType: 'contextual_fill', usageCount: 1, createdAt },
      { exerciseType: 'visual_match', usageCount: 2, createdAt },
      expired({ exerciseType: 'visual_match' }),
    ]);
    await insertLookupStats(db.pool, [
      { day, exerciseType: 'contextual_fill', difficulty: 3, hits: 8, misses: 2, costSaved: '0.024' },
      { day, exerciseType: 'visual_match', difficulty: 3, hits: 1, nearHits: 1, misses: 2, costSaved: '0.003' },
    ]);
  });

  async function columnsOf(sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
    const result = await db.pool.query(sql);
    return { columns: result.fields.map((f) => f.name), rows: result.rows };
  }

  describe('Verification', () => {
    it('finds the table as `\\dt exercise_cache` does', async () => {
      const { rows } = await db.pool.query(psqlRelationListing(['r', 'p'], 'exercise_cache'));
      expect(rows.map((r) => r.name)).toEqual(['exercise_cache']);
    });

    it('finds what `\\di exercise_cache*` lists, and every guide index of the table', async () => {
      const { rows } = await db.pool.query<{ name: string }>(psqlRelationListing(['i', 'I'], 'exercise_cache.*'));
      // psql matches index names: the guide's idx_* names do not start with exercise_cache, the primary key does
      expect(rows.map((r) => r.name)).toContain('exercise_cache_pkey');
      const { rows: all } = await db.pool.query<{ name: string; table_name: string }>(psqlRelationListing(['i'], '.*'));
      const indexes = all.filter((r) => r.table_name === 'exercise_cache').map((r) => r.name);
      expect(indexes).toEqual(
        expect.arrayContaining([
          'idx_exercise_cache_key', 'idx_exercise_type_difficulty', 'idx_exercise_expires_at', 'idx_exercise_last_used',
          'idx_exercise_usage_count', 'idx_exercise_lookup', 'idx_exercise_active', 'idx_exercise_topics', 'idx_exercise_context_hash',
        ]),
      );
    });

    it('finds the functions `\\df *exercise*` lists', async () => {
      const { rows } = await db.pool.query<{ name: string }>(
        `SELECT p.proname AS name FROM pg_catalog.pg_proc p
         WHERE p.proname OPERATOR(pg_catalog.~) '^(.*exercise.*)$' COLLATE pg_catalog.default
           AND pg_catalog.pg_function_is_visible(p.oid) ORDER BY 1`,
      );
      // get_overall_cache_stats has no "exercise" in its name, so the guide's pattern misses it
      expect(rows.map((r) => r.name)).toEqual([
        'cleanup_expired_exercises', 'evict_lru_exercises', 'get_exercise_cache_stats', 'get_lru_exercises',
        'get_popular_exercises', 'refresh_exercise_cache_metrics',
      ]);
    });

    it('finds the views `\\dv exercise_cache*` lists', async () => {
      const { rows } = await db.pool.query(psqlRelationListing(['v'], 'exercise_cache.*'));
      expect(rows.map((r) => r.name)).toEqual(['exercise_cache_overview', 'exercise_cache_stats']);
    });

    it.each(VERIFICATION)('%s: runs unchanged and returns the columns it names', async (_title, sql, expected) => {
      const { columns, rows } = await columnsOf(sql);
      expect(columns).toEqual(expect.arrayContaining(expected));
      expect(rows).toHaveLength(1);
    });

    it('View stats: the overview counts the seeded entries', async () => {
      const { rows } = await columnsOf('SELECT * FROM exercise_cache_overview;');
      expect(rows[0]).toMatchObject({ total_entries: '4', active_entries: '3', cache_hit_rate: '64.29', total_cost_saved: '0.027000' });
    });
  });

  describe('Monitoring Queries', () => {
    beforeEach(() => db.pool.query('SELECT refresh_exercise_cache_metrics()'));

    it.each(MONITORING)('%s: runs unchanged and returns the columns it names', async (_title, sql, expected) => {
      const { columns, rows } = await columnsOf(sql);
      expect(columns).toEqual(expect.arrayContaining(expected));
      expect(rows.length).toBeGreaterThan(0);
    });

    it('Top Performing Exercise Types: ranks the type with the higher hit rate first', async () => {
      const { rows } = await columnsOf(MONITORING[1][1]);
      expect(rows.map((r) => [r.exercise_type, r.cache_hit_rate])).toEqual([
        ['contextual_fill', '80.00'],
        ['visual_match', '25.00'],
      ]);
    });

    it('Daily Metrics: lists the last days, newest first, biggest saving first', async () => {
      const { rows } = await columnsOf(MONITORING[4][1]);
      expect(rows.map((r) => [r.exercise_type, Number(r.entries_created), r.cost_saved])).toEqual([
        ['contextual_fill', 2, '0.024000'],
        ['visual_match', 1, '0.003000'],
        ['visual_match', 1, '0.000000'], // the expired entry, created two days ago
      ]);
    });
  });

  describe('Troubleshooting', () => {
    it.each(TROUBLESHOOTING)('%s: runs unchanged and returns the columns it names', async (_title, sql, expected) => {
      const { columns, rows } = await columnsOf(sql);
      expect(columns).toEqual(expected);
      expect(rows.length).toBeGreaterThan(0);
    });

    it('counts only active entries when checking the cache is populated', async () => {
      const { rows } = await columnsOf(TROUBLESHOOTING[0][1]);
      expect(rows[0].count).toBe('3');
    });

    it('can look a key up through idx_exercise_cache_key', async () => {
      const client = await db.pool.connect();
      try {
        // on a table this small a sequential scan is cheaper: switch it off to see the index serve the query
        await client.query('SET enable_seqscan = off');
        const { rows } = await client.query(TROUBLESHOOTING[2][1]);
        expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan using idx_exercise_cache_key/);
      } finally {
        await client.query('RESET enable_seqscan');
        client.release();
      }
    });
  });

  describe('Scheduled Maintenance', () => {
    it.each(SCHEDULED_MAINTENANCE)('%s: runs unchanged and returns the columns it names', async (_title, sql, expected) => {
      const { columns } = await columnsOf(sql);
      expect(columns).toEqual(expected);
    });
  });

  describe('Rollback', () => {
    it('runs unchanged and removes the guide objects, leaving only the service tables and its helper functions', async () => {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(ROLLBACK);
        const { rows } = await client.query<{ name: string }>(
          `SELECT relname AS name FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'v', 'm')
           UNION ALL SELECT proname FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY 1`,
          [schema],
        );
        // the helpers that fill a row inserted with the guide's columns only; db:rollback removes them too
        expect(rows.map((r) => r.name)).toEqual([
          '_prisma_migrations', 'cache_context_key', 'cache_context_topics', 'cache_fill_guide_insert', 'cache_user_context_hash',
          'exercise_cache_leases', 'exercise_cache_lookup_stats', 'exercise_cache_maintenance_runs', 'exercise_cache_reports',
        ]);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    });
  });
});
