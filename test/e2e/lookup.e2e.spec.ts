import fc from 'fast-check';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { E2e, startE2e, storeBody } from './e2e-kit';

const TYPE_MESSAGE = 'type must be 1..50 characters of a-z, 0-9, "_" and "-"';
const DIFFICULTY_MESSAGE = 'difficulty must be an integer from 1 to 5';
const KEY_MESSAGE = 'key must be 64 lowercase hex characters';

describe('GET /exercise-cache (lookup)', () => {
  let e: E2e;

  beforeAll(async () => {
    e = await startE2e();
  });
  afterAll(async () => {
    await e?.close();
  });

  describe('GET /exercise-cache?type=&difficulty=&topics=', () => {
    it('answers a miss with 404 {statusCode, message, key} and X-Cache: MISS', async () => {
      const res = await e.http().get('/exercise-cache').query({ type: 'fill_miss', difficulty: 2, topics: 'b,a' }).expect(404);
      expect(res.headers['x-cache']).toBe('MISS');
      expect(res.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'no cached exercise for this context',
        key: cacheKeyFor({ type: 'fill_miss', difficulty: 2, topics: ['a', 'b'] }),
      });
    });

    it('answers a hit with 200 {key, exercise, createdAt, expiresAt, usageCount} and X-Cache: HIT', async () => {
      const body = storeBody('fill_hit', ['Colors', 'anatomy'], { exercise: { question: 'The heart is ___', answer: 'red', meta: { tags: ['x'], n: null } } });
      const stored = await e.http().post('/exercise-cache').send(body).expect(201);
      const res = await e.http().get('/exercise-cache?type=fill_hit&difficulty=3&topics=anatomy,colors').expect(200);
      expect(res.headers['x-cache']).toBe('HIT');
      expect(Object.keys(res.body).sort()).toEqual(['createdAt', 'exercise', 'expiresAt', 'key', 'usageCount']);
      expect(res.body).toMatchObject({ key: stored.body.key, exercise: body.exercise, expiresAt: stored.body.expiresAt, usageCount: 0 });
      expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
      expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)).toBe(86_400_000);
    });

    it('keeps usageCount current while L1 serves the entry: uses before this answer, flushed or not', async () => {
      const stored = await e.http().post('/exercise-cache').send(storeBody('fill_usage', ['a'])).expect(201);
      const byContext = () => e.http().get('/exercise-cache?type=fill_usage&difficulty=3&topics=a').expect(200);
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) counts.push((await byContext()).body.usageCount);
      await e.t.app.get(ExerciseCacheService).flushUsage(); // stored count now 3; the L1 entry still says 0
      counts.push((await byContext()).body.usageCount);
      counts.push((await e.http().get(`/exercise-cache/${stored.body.key}`).expect(200)).body.usageCount);
      counts.push((await byContext()).body.usageCount);
      expect(counts).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('reads topics as a comma list or as repeated parameters, in any order, case and spacing', async () => {
      const { body: stored } = await e.http().post('/exercise-cache').send(storeBody('fill_topics', ['verbs', 'past tense', 'irregular'])).expect(201);
      for (const query of [
        'topics=verbs,past%20tense,irregular',
        'topics=irregular&topics=VERBS&topics=Past%20Tense',
        'topics=irregular,verbs&topics=%20past%20tense%20',
        'topics=verbs&topics=verbs,irregular&topics=past%20tense',
      ]) {
        const res = await e.http().get(`/exercise-cache?type=fill_topics&difficulty=3&${query}`).expect(200);
        expect(res.body.key).toBe(stored.key);
      }
      await e.http().get('/exercise-cache?type=fill_topics&difficulty=3&topics=verbs,irregular').expect(404);
    });

    it('treats missing or empty topics as the context without topics', async () => {
      const { body: stored } = await e.http().post('/exercise-cache').send(storeBody('fill_no_topics', [])).expect(201);
      expect((await e.http().get('/exercise-cache?type=fill_no_topics&difficulty=3').expect(200)).body.key).toBe(stored.key);
      expect((await e.http().get('/exercise-cache?type=fill_no_topics&difficulty=3&topics=').expect(200)).body.key).toBe(stored.key);
    });

    it('records every lookup: hits and misses show in /exercise-cache/stats', async () => {
      await e.http().post('/exercise-cache').send(storeBody('fill_counted', ['x'])).expect(201);
      const before = (await e.http().get('/exercise-cache/stats').expect(200)).body;
      await e.http().get('/exercise-cache?type=fill_counted&difficulty=3&topics=x').expect(200);
      await e.http().get('/exercise-cache?type=fill_counted&difficulty=3&topics=x').expect(200);
      await e.http().get('/exercise-cache?type=fill_counted&difficulty=3&topics=y').expect(404);
      const after = (await e.http().get('/exercise-cache/stats').expect(200)).body;
      expect(after.totalHits - before.totalHits).toBe(2);
      expect(after.totalMisses - before.totalMisses).toBe(1);
    });

    it.each([
      ['no type', 'difficulty=3', [TYPE_MESSAGE, 'type is required']],
      ['an upper-case type', 'type=Fill&difficulty=3', [TYPE_MESSAGE]],
      ['a type of 51 characters', `type=${'a'.repeat(51)}&difficulty=3`, [TYPE_MESSAGE]],
      ['no difficulty', 'type=fill', [DIFFICULTY_MESSAGE]],
      ['difficulty 0', 'type=fill&difficulty=0', [DIFFICULTY_MESSAGE]],
      ['difficulty 6', 'type=fill&difficulty=6', [DIFFICULTY_MESSAGE]],
      ['difficulty 2.5', 'type=fill&difficulty=2.5', [DIFFICULTY_MESSAGE]],
      ['difficulty abc', 'type=fill&difficulty=abc', [DIFFICULTY_MESSAGE]],
      ['two difficulties', 'type=fill&difficulty=2&difficulty=3', [DIFFICULTY_MESSAGE]],
      ['21 topics', `type=fill&difficulty=3&topics=${Array.from({ length: 21 }, (_, i) => `t${i}`).join(',')}`, ['topics must hold at most 20 topics']],
      ['a topic of 65 characters', `type=fill&difficulty=3&topics=${'x'.repeat(65)}`, ['topics must hold strings of 1..64 characters without control characters']],
      ['a blank topic', 'type=fill&difficulty=3&topics=a,%20%20', ['topics must hold strings of 1..64 characters without control characters']],
      ['a control character in a topic', 'type=fill&difficulty=3&topics=a%00b', ['topics must hold strings of 1..64 characters without control characters']],
      ['an unknown parameter', 'type=fill&difficulty=3&color=red', ['color: property color should not exist']],
      ['a parameter named toString', 'type=fill&difficulty=3&toString=x', ['toString: property toString should not exist']],
      ['a parameter named valueOf', 'type=fill&difficulty=3&valueOf=1', ['valueOf: property valueOf should not exist']],
      ['a parameter named hasOwnProperty', 'type=fill&difficulty=3&hasOwnProperty=1', ['hasOwnProperty: property hasOwnProperty should not exist']],
    ])('rejects %s with 400 naming the parameter', async (_, query, messages) => {
      const res = await e.http().get(`/exercise-cache?${query}`).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: messages });
    });
  });

  describe('any query', () => {
    it('answers 200, 400 or 404, never a 5xx', async () => {
      const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 70 }), fc.integer().map(String), fc.constantFrom('', '1', '3', '20', 'a'.repeat(64)));
      const query = fc.dictionary(fc.constantFrom('type', 'difficulty', 'topics', 'variants', 'exclude', 'minOverlap', 'limit', 'other'), fc.array(value, { minLength: 1, maxLength: 3 }));
      const path = fc.constantFrom('/exercise-cache', '/exercise-cache/near', '/exercise-cache/popular', '/exercise-cache/lru', '/exercise-cache/metrics/daily');
      await fc.assert(
        fc.asyncProperty(path, query, async (route, params) => {
          const search = new URLSearchParams();
          for (const [name, values] of Object.entries(params)) for (const v of values) search.append(name, v);
          const res = await e.http().get(`${route}?${search.toString()}`);
          expect([200, 400, 404]).toContain(res.status);
        }),
        { numRuns: 40 },
      );
    });
  });

  describe('GET /exercise-cache/:key', () => {
    it('answers a hit with 200, the entry and X-Cache: HIT', async () => {
      const body = storeBody('by_key', ['k']);
      const { body: stored } = await e.http().post('/exercise-cache').send(body).expect(201);
      const res = await e.http().get(`/exercise-cache/${stored.key}`).expect(200);
      expect(res.headers['x-cache']).toBe('HIT');
      expect(Object.keys(res.body).sort()).toEqual(['createdAt', 'exercise', 'expiresAt', 'key', 'usageCount']);
      expect(res.body).toMatchObject({ key: stored.key, exercise: body.exercise, expiresAt: stored.expiresAt });
    });

    it('answers an unknown key with 404 {statusCode, message, key} and X-Cache: MISS', async () => {
      const key = cacheKeyFor({ type: 'by_key_absent', difficulty: 1, topics: [] });
      const res = await e.http().get(`/exercise-cache/${key}`).expect(404);
      expect(res.headers['x-cache']).toBe('MISS');
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'no cached exercise with this key', key });
    });

    it('answers an expired entry with 404', async () => {
      const { body: stored } = await e.http().post('/exercise-cache').send(storeBody('by_key_expired', ['k'])).expect(201);
      await e.db.pool.query(`UPDATE exercise_cache SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE cache_key = $1`, [
        stored.key,
      ]);
      await e.http().get(`/exercise-cache/${stored.key}`).expect(404);
    });

    it.each([
      ['too short', 'abc123'],
      ['upper-case hex', 'A'.repeat(64)],
      ['65 characters', 'a'.repeat(65)],
      ['not hex', 'g'.repeat(64)],
    ])('rejects a key that is %s with 400', async (_, key) => {
      const res = await e.http().get(`/exercise-cache/${key}`).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: [KEY_MESSAGE] });
    });
  });

  describe('GET /exercise-cache/near', () => {
    beforeAll(async () => {
      for (const topics of [['a', 'b', 'c'], ['a', 'b'], ['a'], ['x', 'y']]) {
        await e.http().post('/exercise-cache').send(storeBody('near_http', topics, {}, 2)).expect(201);
      }
      await e.http().post('/exercise-cache').send(storeBody('near_http', ['a', 'b', 'c'], {}, 3)).expect(201);
    });

    it('returns [{key, exercise, topics, overlap}] of the same type and difficulty, most overlap first', async () => {
      const res = await e.http().get('/exercise-cache/near?type=near_http&difficulty=2&topics=A,b,c,d').expect(200);
      expect(res.body.map((r: { topics: string[]; overlap: number }) => [r.topics, r.overlap])).toEqual([
        [['a', 'b', 'c'], 3],
        [['a', 'b'], 2],
        [['a'], 1],
      ]);
      expect(Object.keys(res.body[0]).sort()).toEqual(['exercise', 'key', 'overlap', 'topics']);
      expect(res.body[0].key).toBe(cacheKeyFor({ type: 'near_http', difficulty: 2, topics: ['a', 'b', 'c'] }));
      expect(res.body[0].exercise).toEqual(storeBody('near_http', ['a', 'b', 'c']).exercise);
    });

    it('honours minOverlap and limit, and answers [] when nothing overlaps', async () => {
      const two = await e.http().get('/exercise-cache/near?type=near_http&difficulty=2&topics=a,b,c&minOverlap=2').expect(200);
      expect(two.body.map((r: { overlap: number }) => r.overlap)).toEqual([3, 2]);
      const one = await e.http().get('/exercise-cache/near?type=near_http&difficulty=2&topics=a&topics=b&limit=1').expect(200);
      expect(one.body).toHaveLength(1);
      expect((await e.http().get('/exercise-cache/near?type=near_http&difficulty=2&topics=zzz').expect(200)).body).toEqual([]);
      expect((await e.http().get('/exercise-cache/near?type=near_http&difficulty=5&topics=a').expect(200)).body).toEqual([]);
    });

    it.each([
      ['minOverlap 0', 'topics=a&minOverlap=0', ['minOverlap must be an integer from 1 to 20']],
      ['minOverlap 21', 'topics=a&minOverlap=21', ['minOverlap must be an integer from 1 to 20']],
      ['limit 0', 'topics=a&limit=0', ['limit must be an integer from 1 to 100']],
      ['limit 101', 'topics=a&limit=101', ['limit must be an integer from 1 to 100']],
      ['limit x', 'topics=a&limit=x', ['limit must be an integer from 1 to 100']],
    ])('rejects %s with 400 naming the parameter', async (_, query, messages) => {
      const res = await e.http().get(`/exercise-cache/near?type=near_http&difficulty=2&${query}`).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: messages });
    });

    it('requires topics', async () => {
      const res = await e.http().get('/exercise-cache/near?type=near_http&difficulty=2').expect(400);
      expect(res.body.message).toContain('topics is required');
    });
  });
});
