import { Pool } from 'pg';
import { CheckedOutClient } from '../../src/database/checked-out-client';
import { cacheSqlNames } from '../../src/database/sql-names';
import { MaintenanceSession } from '../../src/maintenance/maintenance.repository';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';

describe('maintenance locks of caches in two schemas of one database', () => {
  let db: TestDatabase;
  let pool: Pool;
  const sessions: MaintenanceSession[] = [];
  const session = async (schema: string) => {
    const opened = new MaintenanceSession(await CheckedOutClient.from(pool), cacheSqlNames(schema));
    sessions.push(opened);
    return opened;
  };

  beforeAll(async () => {
    db = await createEmptyDatabase();
    pool = new Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(async () => {
    for (const opened of sessions) await opened.close();
    await pool.end();
    await db.drop();
  });

  it("lets each schema's job take its own lock, and still one run per job within a schema", async () => {
    const a = await session('cache_a');
    const b = await session('cache_b');
    const secondA = await session('cache_a');

    expect(await a.tryLock('cleanup')).toBe(true);
    expect(await b.tryLock('cleanup')).toBe(true);
    expect(await secondA.tryLock('cleanup')).toBe(false);
  });
});
