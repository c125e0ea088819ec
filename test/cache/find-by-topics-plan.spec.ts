import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { PrismaService } from '../../src/database/prisma.service';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';

const ROWS = 100_000;
const TOPICS = 3000;
const TYPES = 40;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const indexesIn = (node: PlanNode): string[] => [...(node['Index Name'] ? [node['Index Name']] : []), ...(node.Plans ?? []).flatMap(indexesIn)];

describe(`${ExerciseCacheService.name}.findByTopics on ${ROWS} rows`, () => {
  let db: TestDatabase;
  let t: TestApp;
  let cache: ExerciseCacheService;

  beforeAll(async () => {
    db = await createTestDatabase();
    // One statement: 40 types x 5 difficulties, 1..5 topics per row drawn from 3000 topics with a
    // skew (low numbers are common, as everyday topics are), a tenth of the rows expired.
    // setseed and INSERT travel in one simple query, so they share a session: the data is the same on every run.
    await db.pool.query(
      `SELECT setseed(0.42);
       INSERT INTO exercise_cache (cache_key, context_key, exercise_type, exercise_data, user_context_hash, difficulty, topics,
         usage_count, created_at, expires_at)
       SELECT encode(sha256(convert_to('plan' || i, 'UTF8')), 'hex'), encode(sha256(convert_to('plan' || i, 'UTF8')), 'hex'),
              'type_' || (i % ${TYPES}), jsonb_build_object('n', i), md5(i::text), 1 + (i / ${TYPES}) % 5,
              ARRAY(SELECT DISTINCT 'topic_' || floor(power(random(), 2) * ${TOPICS})::int FROM generate_series(1, 1 + i % 5)),
              (i * 7919) % 50, now() - interval '1 hour',
              CASE WHEN i % 10 = 0 THEN now() - interval '1 minute' ELSE now() + interval '1 day' END
       FROM generate_series(1, ${ROWS}) AS i`,
    );
    // VACUUM as autovacuum would after a bulk load: it merges GIN's pending list (fastupdate) into
    // the index. Right after the INSERT, 50k entries wait in that list, every scan of the index has
    // to read all of them (measured: 16-47 ms instead of 0.1 ms), and the planner rightly avoids it.
    await db.pool.query('VACUUM ANALYZE exercise_cache');
    t = await startTestApp(db.url);
    cache = t.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  /** Runs findByTopics and captures the SQL and parameters the repository sent to the pool. */
  async function findByTopicsCapturingQuery(topics: string[], minOverlap = 1) {
    const pool = t.app.get(PrismaService).pool;
    const spy = jest.spyOn(pool, 'query');
    try {
      const found = await cache.findByTopics({ type: 'type_7', difficulty: 3, topics }, { minOverlap, limit: 10 });
      expect(spy).toHaveBeenCalledTimes(1);
      const [sql, values] = spy.mock.calls[0] as unknown as [string, unknown[]];
      return { found, sql, values };
    } finally {
      spy.mockRestore();
    }
  }

  it.each([
    ['common topics', ['topic_1', 'topic_2', 'topic_3']],
    ['rare topics', ['topic_2500', 'topic_2900']],
  ])('uses idx_exercise_topics for %s', async (_, topics) => {
    const { sql, values } = await findByTopicsCapturingQuery(topics);
    expect(sql).toContain('topics && $3::text[]');
    const { rows } = await db.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, values);
    expect(indexesIn(rows[0]['QUERY PLAN'][0].Plan)).toContain('idx_exercise_topics');
  });

  it('returns what a full scan finds, in overlap then usage order', async () => {
    const topics = ['topic_1', 'topic_4', 'topic_9'];
    const { found } = await findByTopicsCapturingQuery(topics);
    const { rows } = await db.pool.query<{ cache_key: string; overlap: number }>(
      `SELECT cache_key, cardinality(ARRAY(SELECT unnest(topics) INTERSECT SELECT unnest($1::text[])))::int AS overlap
       FROM exercise_cache
       WHERE exercise_type = 'type_7' AND difficulty = 3 AND expires_at > now()
         AND cardinality(ARRAY(SELECT unnest(topics) INTERSECT SELECT unnest($1::text[]))) >= 1
       ORDER BY overlap DESC, usage_count DESC, cache_key LIMIT 10`,
      [topics],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(found.map((e) => [e.key, e.overlap])).toEqual(rows.map((r) => [r.cache_key, r.overlap]));
  });
});
