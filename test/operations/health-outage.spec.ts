import path from 'node:path';
import request from 'supertest';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { applyMigrations } from '../../src/database/migrations';
import { freePort } from '../support/free-port';
import { TestApp, startTestApp } from '../support/test-app';
import { enterableTempDir } from '../support/processes';
import { pollUntil } from '../support/poll';

/** The application keeps running while the database goes away and comes back. */
describe('GET /health through a database outage', () => {
  const temp = enterableTempDir();
  let pg: EmbeddedPostgres;
  let t: TestApp;
  const get = (url: string) => request(t.app.getHttpServer()).get(url);

  beforeAll(async () => {
    pg = await EmbeddedPostgres.start({ dataDir: path.join(temp.dir, 'pg'), port: await freePort(), database: 'outage' });
    await applyMigrations(pg.url);
    t = await startTestApp(pg.url, { HEALTH_DB_TIMEOUT_MS: '500', DATABASE_CONNECT_TIMEOUT_MS: '500' });
  }, 120000);
  afterAll(async () => {
    await t?.close();
    await pg?.stop();
    temp.remove();
  });

  it('answers 503 naming the database while it is stopped and 200 again after it restarts', async () => {
    await get('/health').expect(200);
    await get('/metrics').expect(200);

    await pg.stop();
    const down = await pollUntil(() => get('/health'), (res) => res.status === 503);
    expect(down.body.status).toBe('error');
    expect(down.body.error.database).toEqual({ status: 'down', message: expect.any(String), responseTime: expect.any(Number) });
    expect((await get('/health/ready')).status).toBe(503);
    // Liveness does not depend on the database, and a scrape still succeeds.
    await get('/health/live').expect(200);
    const metrics = await get('/metrics').expect(200);
    expect(metrics.text).toContain('exercise_cache_entries{state="active"}');

    await pg.restart();
    const up = await pollUntil(() => get('/health'), (res) => res.status === 200);
    expect(up.body.details.database.status).toBe('up');
    await get('/health/ready').expect(200);
  });
});
