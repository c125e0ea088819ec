import { freePort } from '../support/free-port';
import { probeConnection } from '../../src/database/connection-probe';
import { TestDatabase, createTestDatabase } from '../support/test-database';

const OPTIONS = { statementTimeoutMs: 5000, connectTimeoutMs: 2000 };

/** PostgreSQL itself; PgBouncer's side is in pgbouncer.spec.ts. */
describe(probeConnection.name, () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('finds PostgreSQL itself: statement_timeout accepted at connect, one session per client', async () => {
    expect(await probeConnection(db.url, 'DATABASE_URL', OPTIONS)).toEqual({ statementTimeoutAtConnect: true, transactionPooler: false });
  });

  it('cannot tell when nothing answers: undefined, and startup goes on as before', async () => {
    const nothing = `postgresql://postgres@127.0.0.1:${await freePort()}/none`;
    await expect(probeConnection(nothing, 'DATABASE_URL', OPTIONS)).resolves.toBeUndefined();
  });
});
