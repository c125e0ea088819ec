import { Pool } from 'pg';
import { clientClassFor } from '../../src/database/prepared-statements';
import { TestDatabase, createTestDatabase } from '../support/test-database';

describe(clientClassFor.name, () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Runs one named query on a one-connection pool; returns its result and the session's prepared statements. */
  async function runNamed(preparedStatements: boolean) {
    const pool = new Pool({ connectionString: db.url, max: 1, Client: clientClassFor(preparedStatements) });
    try {
      const named = { name: 'platform_spec_add', text: 'SELECT $1::int + 1 AS n', values: [41] };
      const first = await pool.query<{ n: number }>(named);
      const again = await pool.query<{ n: number }>(named);
      const { rows } = await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name');
      return { answers: [first.rows[0].n, again.rows[0].n], prepared: rows.map((r) => r.name) };
    } finally {
      await pool.end();
    }
  }

  it('keeps named prepared statements when they are on', async () => {
    expect(await runNamed(true)).toEqual({ answers: [42, 42], prepared: ['platform_spec_add'] });
  });

  it('runs the same queries unnamed when they are off: nothing is prepared on the session', async () => {
    expect(await runNamed(false)).toEqual({ answers: [42, 42], prepared: [] });
  });
});
