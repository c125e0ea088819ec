import request from 'supertest';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { InvalidationBus } from '../../src/cache/invalidation-bus';
import { pollUntil } from '../support/poll';

/** Two replicas on one database; waiters on one are woken by the holder's store on the other. */
describe.each([
  ['with L1', 'true'],
  ['without L1 (the LISTEN session opens on the first wait)', 'false'],
])('leases on two replicas %s', (_, l1) => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestApp(db.url, { L1_ENABLED: l1 }, { listen: true });
    b = await startTestApp(db.url, { L1_ENABLED: l1 }, { listen: true });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  const q = { type: 'lease_replicas', difficulty: 1, topics: 'x' };

  it('a caller waiting on B gets the exercise A\'s lease holder stores (COALESCED), and B\'s own lookup next is a hit', async () => {
    expect(b.app.get(InvalidationBus).listening).toBe(l1 === 'true');
    const holder = await request(a.url!).get('/exercise-cache').query({ ...q, lease: 30 }).expect(404);
    const token = holder.headers['x-cache-lease'];
    const waiting = request(b.url!).get('/exercise-cache').query({ ...q, lease: 30, wait: 30000 }).then((res) => res);
    // B's waiter is in place once B has tried the lease and found it held.
    const waitedOnB = async () => Number(/exercise_cache_leases_total\{outcome="waited"\} (\d+)/.exec((await request(b.url!).get('/metrics')).text)?.[1]);
    await pollUntil(waitedOnB, (n) => n >= 1);
    const started = Date.now();
    await request(a.url!)
      .post('/exercise-cache')
      .set('X-Cache-Lease', token)
      .send({ context: { type: q.type, difficulty: 1, topics: ['x'] }, exercise: { from: 'a' } })
      .expect(201);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.headers['x-cache']).toBe('COALESCED');
    expect(res.body.exercise).toEqual({ from: 'a' });
    expect(Date.now() - started).toBeLessThan(30000);
    expect(b.app.get(InvalidationBus).listening).toBe(true);
    expect((await request(b.url!).get('/exercise-cache').query({ ...q, lease: 30 }).expect(200)).headers['x-cache']).toBe('HIT');
  });
});
