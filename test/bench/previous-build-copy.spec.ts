import { copyRows } from '../../bench/previous-build';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';

// `npm run bench -- --compare-with DIR` fills the other build's own database with the bench's
// rows: only the columns both schemas have, every row across batch boundaries, values intact,
// sequences continuing after the copied ids, and each database keeping its own migration history.
describe('bench --compare-with: copying the seeded rows into the other build database', () => {
  let source: TestDatabase;
  let target: TestDatabase;

  beforeAll(async () => {
    [source, target] = [await createEmptyDatabase(), await createEmptyDatabase()];
    await source.pool.query(`
      CREATE TABLE entries (id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL, topics TEXT[] NOT NULL, body JSONB NOT NULL,
                            cost NUMERIC(10, 6), created_at TIMESTAMPTZ NOT NULL, only_in_new TEXT);
      CREATE TABLE only_in_source (id INT);
      CREATE TABLE _prisma_migrations (name TEXT);
      INSERT INTO _prisma_migrations VALUES ('new-1'), ('new-2');
      INSERT INTO only_in_source VALUES (1);
      INSERT INTO entries (key, topics, body, cost, created_at, only_in_new)
      SELECT 'k' || i, ARRAY['t' || i, 'it''s, "quoted"'], jsonb_build_object('n', i, 'text', 'ä "x"'), i / 1000.0,
             timestamptz '2026-01-01 00:00:00.123456+00' + i * interval '1 second', 'x'
      FROM generate_series(1, 12001) i`);
    await target.pool.query(`
      CREATE TABLE entries (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key TEXT NOT NULL, topics TEXT[] NOT NULL,
                            body JSONB NOT NULL, cost NUMERIC(12, 6), created_at TIMESTAMPTZ NOT NULL,
                            only_in_old INT NOT NULL DEFAULT 7, key_length INT GENERATED ALWAYS AS (length(key)) STORED);
      CREATE TABLE _prisma_migrations (name TEXT);
      INSERT INTO _prisma_migrations VALUES ('old-1')`);
  });

  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('copies every row over the common columns and leaves the migration history alone', async () => {
    expect(await copyRows(source.url, target.url)).toEqual({ entries: 12001 });

    const columns = 'id, key, topics, body, cost, created_at';
    const dump = async (db: TestDatabase) => (await db.pool.query(`SELECT ${columns} FROM entries ORDER BY id`)).rows;
    expect(await dump(target)).toEqual(await dump(source));
    const { rows } = await target.pool.query(`SELECT count(*)::int AS n, min(only_in_old) AS lo, max(only_in_old) AS hi, sum(key_length)::int - sum(length(key))::int AS diff FROM entries`);
    expect(rows[0]).toEqual({ n: 12001, lo: 7, hi: 7, diff: 0 });
    expect((await target.pool.query('SELECT name FROM _prisma_migrations')).rows).toEqual([{ name: 'old-1' }]);
  });

  it('lets the other build insert after the copied ids', async () => {
    const { rows } = await target.pool.query(`INSERT INTO entries (key, topics, body, created_at) VALUES ('new', '{}', '{}', now()) RETURNING id`);
    expect(Number(rows[0].id)).toBe(12002);
  });
});
