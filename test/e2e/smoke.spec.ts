import request from 'supertest';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { TestApp, startTestApp } from '../support/test-app';

describe('smoke', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('stores and serves', async () => {
    const server = t.app.getHttpServer();
    await request(server).get('/exercise-cache?type=fill&difficulty=3&topics=a,b').expect(404);
    const post = await request(server).post('/exercise-cache').send({ context: { type: 'fill', difficulty: 3, topics: ['B', 'a'] }, exercise: { q: 1 } }).expect(201);
    const hit = await request(server).get('/exercise-cache?type=fill&difficulty=3&topics=a,b').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body.key).toBe(post.body.key);
    const stats = await request(server).get('/exercise-cache/stats').expect(200);
    expect(stats.body.totalHits).toBe(1);
    expect(stats.body.totalMisses).toBe(1);
    const bad = await request(server).get('/exercise-cache?type=fill&difficulty=2.5').expect(400);
  });
});
