import { cacheKeyFor } from '../../src/cache/cache-key';
import { rowsOf } from '../cache/cache-test-kit';
import { E2e, startE2e, storeBody } from './e2e-kit';

describe('DELETE /exercise-cache (invalidate)', () => {
  let e: E2e;

  beforeAll(async () => {
    e = await startE2e();
  });
  afterAll(async () => {
    await e?.close();
  });

  describe('DELETE /exercise-cache/:key', () => {
    it('answers 204 with no body, then 404 for the same key', async () => {
      const { body: stored } = await e.http().post('/exercise-cache').send(storeBody('delete_key', ['a'])).expect(201);
      await e.http().get(`/exercise-cache/${stored.key}`).expect(200); // now in L1 too
      const removed = await e.http().delete(`/exercise-cache/${stored.key}`).expect(204);
      expect(removed.text).toBe('');
      await e.http().get(`/exercise-cache/${stored.key}`).expect(404);
      await e.http().get('/exercise-cache?type=delete_key&difficulty=3&topics=a').expect(404);
      expect(await rowsOf(e.db.pool, 'cache_key = $1', [stored.key])).toEqual([]);
      const again = await e.http().delete(`/exercise-cache/${stored.key}`).expect(404);
      expect(again.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'no cached exercise with this key', key: stored.key });
    });

    it('removes only that entry', async () => {
      const { body: kept } = await e.http().post('/exercise-cache').send(storeBody('delete_one', ['kept'])).expect(201);
      const { body: gone } = await e.http().post('/exercise-cache').send(storeBody('delete_one', ['gone'])).expect(201);
      await e.http().delete(`/exercise-cache/${gone.key}`).expect(204);
      await e.http().get(`/exercise-cache/${kept.key}`).expect(200);
    });

    it('rejects a malformed key with 400', async () => {
      const res = await e.http().delete('/exercise-cache/not-a-key').expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['key must be 64 lowercase hex characters'] });
    });
  });

  describe('DELETE /exercise-cache?type=&difficulty=&topics=', () => {
    it('removes every variant of the context and answers {removed}', async () => {
      for (let i = 0; i < 3; i++) {
        await e.http().post('/exercise-cache').send(storeBody('delete_context', ['x', 'y'], { variants: 3, exercise: { n: i } })).expect(201);
      }
      const { body: other } = await e.http().post('/exercise-cache').send(storeBody('delete_context', ['x'])).expect(201);
      expect(await rowsOf(e.db.pool, 'context_key = $1', [cacheKeyFor({ type: 'delete_context', difficulty: 3, topics: ['x', 'y'] })])).toHaveLength(3);

      const res = await e.http().delete('/exercise-cache?type=delete_context&difficulty=3&topics=Y,x').expect(200);
      expect(res.body).toEqual({ removed: 3 });
      await e.http().get('/exercise-cache?type=delete_context&difficulty=3&topics=x,y&variants=3').expect(404);
      await e.http().get(`/exercise-cache/${other.key}`).expect(200);
      expect((await e.http().delete('/exercise-cache?type=delete_context&difficulty=3&topics=x,y').expect(200)).body).toEqual({ removed: 0 });
    });

    it('validates the context like a lookup', async () => {
      const res = await e.http().delete('/exercise-cache?type=delete_context&difficulty=9').expect(400);
      expect(res.body.message).toEqual(['difficulty must be an integer from 1 to 5']);
      await e.http().delete('/exercise-cache').expect(400);
    });
  });
});
