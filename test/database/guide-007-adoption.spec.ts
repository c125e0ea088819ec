import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheKeyFor, userContextHashFor } from '../../src/cache/cache-key';
import { applyMigrations, listMigrationNames } from '../../src/database/migrations';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';

const ROOT = path.resolve(__dirname, '..', '..');
const GUIDE_007 = readFileSync(path.join(__dirname, 'fixtures', 'guide-007-exercise-cache.sql'), 'utf8');
const run = promisify(execFile);

interface GuideRow {
  cacheKey: string;
  type: string;
  difficulty: number;
  topics: string[];
  data: Record<string, unknown>;
  usage: number;
  lastUsedAt: string;
  createdAt: string;
  expiresAt: string;
  cost: string;
  timeMs: number | null;
}

/** Rows as the guide's service wrote them: its own keys, its own context hash. */
const ROWS: GuideRow[] = [
  {
    cacheKey: 'guide-key-a', type: 'contextual_fill', difficulty: 3, topics: ['colors', 'anatomy'], data: { prompt: 'A' }, usage: 5,
    lastUsedAt: '2026-12-01T10:00:00Z', createdAt: '2026-11-30T09:00:00Z', expiresAt: '2099-01-01T00:00:00Z', cost: '0.004000', timeMs: 900,
  },
  {
    // the same context spelled differently: one key in this project, merged with the row above
    cacheKey: 'guide-key-b', type: 'contextual_fill', difficulty: 3, topics: ['Anatomy', ' colors'], data: { prompt: 'B' }, usage: 2,
    lastUsedAt: '2026-12-03T10:00:00Z', createdAt: '2026-11-29T09:00:00Z', expiresAt: '2099-02-01T00:00:00Z', cost: '0.002000', timeMs: 400,
  },
  {
    cacheKey: 'guide-key-c', type: 'visual_match', difficulty: 2, topics: ['animals'], data: { prompt: 'C', options: [1, 2] }, usage: 7,
    lastUsedAt: '2026-11-20T10:00:00Z', createdAt: '2026-11-19T09:00:00Z', expiresAt: '2026-11-21T09:00:00Z', cost: '0.003000', timeMs: null,
  },
  {
    cacheKey: 'guide-key-d', type: 'quiz', difficulty: 1, topics: [], data: { prompt: 'D' }, usage: 0,
    lastUsedAt: '2026-12-02T10:00:00Z', createdAt: '2026-12-02T10:00:00Z', expiresAt: '2099-03-01T00:00:00Z', cost: '0.003000', timeMs: 100,
  },
];

async function guideDatabase(rows: GuideRow[], schema = 'public'): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  // the guide's file names its objects unqualified: run it with search_path set, in one transaction
  await db.pool.query(`BEGIN; CREATE SCHEMA IF NOT EXISTS ${schema}; SET LOCAL search_path TO ${schema}; ${GUIDE_007}; COMMIT`);
  for (const row of rows) {
    await db.pool.query(
      `INSERT INTO ${schema}.exercise_cache (cache_key, exercise_type, exercise_data, user_context_hash, difficulty, topics, usage_count,
         last_used_at, created_at, expires_at, generation_cost, generation_time_ms)
       VALUES ($1, $2, $3, $12, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [row.cacheKey, row.type, row.data, row.difficulty, row.topics, row.usage, row.lastUsedAt, row.createdAt, row.expiresAt, row.cost, row.timeMs, `guide-hash-${row.cacheKey}`],
    );
  }
  return db;
}

/** Everything a failed adoption must leave exactly as it was. */
async function snapshot(db: TestDatabase, schema = 'public') {
  const rows = await db.pool.query(`SELECT * FROM ${schema}.exercise_cache ORDER BY cache_key`);
  const objects = await db.pool.query(
    `SELECT c.relkind::text || ':' || c.relname AS object FROM pg_class c WHERE c.relnamespace = $1::regnamespace
     UNION ALL SELECT 'f:' || p.proname || ':' || md5(pg_get_functiondef(p.oid)) FROM pg_proc p WHERE p.pronamespace = $1::regnamespace
     ORDER BY 1`,
    [schema],
  );
  return { rows: rows.rows, objects: objects.rows.map((r) => r.object) };
}

describe("adopting the guide's migration 007", () => {
  let names: string[];
  const databases: TestDatabase[] = [];
  const track = (db: TestDatabase) => (databases.push(db), db);
  beforeAll(async () => {
    names = await listMigrationNames();
  });
  afterAll(() => Promise.all(databases.map((db) => db.drop())));

  describe('a database holding the guide objects and rows', () => {
    let db: TestDatabase;
    const lines: string[] = [];
    beforeAll(async () => {
      db = track(await guideDatabase(ROWS));
      expect(await applyMigrations(db.url, { log: (line) => lines.push(line) })).toEqual(names);
    });

    const entry = async (context: { type: string; difficulty: number; topics: string[] }) => {
      const { rows } = await db.pool.query(
        `SELECT cache_key, context_key, variant, exercise_type, exercise_data, user_context_hash, difficulty, topics, usage_count,
                last_used_at, created_at, expires_at, generation_cost, generation_time_ms
         FROM exercise_cache WHERE cache_key = $1`,
        [cacheKeyFor(context)],
      );
      return rows[0];
    };

    it('keeps every row as an entry under the key this project computes from type, difficulty and topics', async () => {
      const { rows } = await db.pool.query('SELECT cache_key FROM exercise_cache ORDER BY cache_key');
      const expected = [
        cacheKeyFor({ type: 'contextual_fill', difficulty: 3, topics: ['colors', 'anatomy'] }),
        cacheKeyFor({ type: 'visual_match', difficulty: 2, topics: ['animals'] }),
        cacheKeyFor({ type: 'quiz', difficulty: 1, topics: [] }),
      ].sort();
      expect(rows.map((r) => r.cache_key)).toEqual(expected);
      expect(lines).toContain("adopted the guide's migration 007: 4 rows kept as 3 entries");
    });

    it('keeps usage_count, last_used_at, created_at, expires_at, generation cost and time of a row', async () => {
      const context = { type: 'visual_match', difficulty: 2, topics: ['animals'] };
      expect(await entry(context)).toEqual({
        cache_key: cacheKeyFor(context),
        context_key: cacheKeyFor(context),
        variant: 1,
        exercise_type: 'visual_match',
        exercise_data: { prompt: 'C', options: [1, 2] },
        user_context_hash: userContextHashFor(context),
        difficulty: 2,
        topics: ['animals'],
        usage_count: 7,
        last_used_at: new Date('2026-11-20T10:00:00Z'),
        created_at: new Date('2026-11-19T09:00:00Z'),
        expires_at: new Date('2026-11-21T09:00:00Z'),
        generation_cost: '0.003000',
        generation_time_ms: null,
      });
    });

    it('merges rows that map to one key without losing usage: summed, latest use, earliest creation, latest expiry, the most used exercise', async () => {
      expect(await entry({ type: 'contextual_fill', difficulty: 3, topics: ['anatomy', 'colors'] })).toMatchObject({
        topics: ['anatomy', 'colors'],
        usage_count: 7,
        last_used_at: new Date('2026-12-03T10:00:00Z'),
        created_at: new Date('2026-11-29T09:00:00Z'),
        expires_at: new Date('2099-02-01T00:00:00Z'),
        exercise_data: { prompt: 'A' },
        generation_cost: '0.004000',
        generation_time_ms: 900,
      });
    });

    it("replaces the guide's functions and views with this project's, and records every migration", async () => {
      const { rows } = await db.pool.query(
        `SELECT pg_get_function_result('get_popular_exercises(integer)'::regprocedure) AS popular,
                (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'exercise_cache_overview'::regclass) AS overview`,
      );
      expect(rows[0].popular).toMatch(/variant integer/);
      expect(rows[0].overview).toEqual(expect.arrayContaining(['near_hit_rate', 'total_lookups']));
      const records = await db.pool.query('SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1');
      expect(records.rows.map((r) => r.migration_name)).toEqual(names);
      for (const record of records.rows) {
        // the checksum prisma migrate deploy records, so the engine sees no modified migration later
        const file = readFileSync(path.join(ROOT, 'prisma', 'migrations', record.migration_name, 'migration.sql'));
        expect(record.checksum).toBe(createHash('sha256').update(file).digest('hex'));
      }
      // the guide's Verification section works on the adopted database
      expect((await db.pool.query('SELECT cleanup_expired_exercises() AS n')).rows[0].n).toBe(1);
    });

    it('is idempotent: a second run applies nothing and changes no row', async () => {
      const before = await db.pool.query('SELECT * FROM exercise_cache ORDER BY cache_key');
      expect(await applyMigrations(db.url)).toEqual([]);
      expect((await db.pool.query('SELECT * FROM exercise_cache ORDER BY cache_key')).rows).toEqual(before.rows);
    });
  });

  it('changes nothing when a row cannot be adopted, and names the row', async () => {
    const db = track(await guideDatabase([...ROWS, { ...ROWS[3], cacheKey: 'guide-key-bad', type: 'Fill In!' }]));
    const before = await snapshot(db);

    await expect(applyMigrations(db.url)).rejects.toThrow(/nothing was changed: row .* \(cache_key guide-key-bad\) cannot be adopted: exercise_type "Fill In!"/);
    expect(await snapshot(db)).toEqual(before);
    expect((await db.pool.query("SELECT to_regclass('_prisma_migrations') AS t")).rows[0].t).toBeNull();
  });

  it('changes nothing when the database refuses a step half-way (an application view on the guide table)', async () => {
    const db = track(await guideDatabase(ROWS));
    await db.pool.query('CREATE VIEW app_popular AS SELECT cache_key FROM exercise_cache WHERE usage_count > 3');
    const before = await snapshot(db);

    await expect(applyMigrations(db.url)).rejects.toThrow(/nothing was changed: cannot drop table exercise_cache because other objects depend on it/);
    expect(await snapshot(db)).toEqual(before);
  });

  it('adopts the guide objects in a schema of their own', async () => {
    const db = track(await guideDatabase(ROWS, 'legacy'));
    expect(await applyMigrations(db.url, { schema: 'legacy' })).toEqual(names);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM legacy.exercise_cache')).rows[0].n).toBe(3);
    expect((await db.pool.query("SELECT to_regclass('public.exercise_cache') AS t")).rows[0].t).toBeNull();
  });

  it('is what db:migrate does', async () => {
    const db = track(await guideDatabase(ROWS));
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'dist', 'database', 'migrate.cli.js')], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url },
    });
    expect(stdout).toContain("adopted the guide's migration 007: 4 rows kept as 3 entries");
    expect((await db.pool.query('SELECT sum(usage_count)::int AS n FROM exercise_cache')).rows[0].n).toBe(14);
  });
});
