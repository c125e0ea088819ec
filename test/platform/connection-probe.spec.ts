import { randomBytes } from 'node:crypto';
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

  it('cannot tell when the server takes one connection but not a second (too many clients, a connect timeout on a loaded machine): undefined, not a failed startup or migrate', async () => {
    const role = `probe_${randomBytes(4).toString('hex')}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`);
    try {
      const url = new URL(db.url);
      url.username = role;
      await expect(probeConnection(url.toString(), 'DATABASE_URL', OPTIONS)).resolves.toBeUndefined();
    } finally {
      await db.pool.query(`DROP ROLE ${role}`);
    }
  });
});
