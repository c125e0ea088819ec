import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ThrottlerStorage } from '@nestjs/throttler';
import type { InjectOptions } from 'fastify';
import { MetricsRegistry } from '../../src/metrics/metrics-registry';
import { pollUntil } from '../support/poll';
import { startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';

// A timer or monitor of a closed app that lives on (even unref'd, so never keeping the process
// alive) keeps the whole app in memory: a process that creates and closes apps grows without
// bound. Jest's workers showed it: each test file's apps stayed, ~20 MB a file, until the
// workers were too big to exit within Jest's 500 ms.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The names of `refs` whose objects are still alive once nothing of the closed app is due to run. */
function stillAlive(refs: Record<string, WeakRef<object>>): Promise<string[]> {
  return pollUntil(
    () => {
      gc();
      return Object.keys(refs).filter((name) => refs[name].deref() !== undefined);
    },
    (alive) => alive.length === 0,
    { timeoutMs: 5000, everyMs: 100 },
  ).catch(() => Object.keys(refs).filter((name) => refs[name].deref() !== undefined));
}

describe('a closed app', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('is garbage collected once unreferenced: no timer or monitor of it outlives close()', async () => {
    let t: Awaited<ReturnType<typeof startTestApp>> | undefined = await startTestApp(db.url, { RATE_LIMIT_MAX: '5' });
    const refs = {
      app: new WeakRef<object>(t.app),
      metricsRegistry: new WeakRef<object>(t.app.get(MetricsRegistry)),
      rateLimitStorage: new WeakRef<object>(t.app.get(ThrottlerStorage)),
    };
    const lookup: InjectOptions = { method: 'GET', url: '/exercise-cache?type=closed_app&difficulty=1&topics=a' };
    expect((await t.app.getHttpAdapter().getInstance().inject(lookup)).statusCode).toBe(404);
    expect((await t.app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    await t.close();
    t = undefined;
    expect(await stillAlive(refs)).toEqual([]);
  });
});
