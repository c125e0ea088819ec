import fc from 'fast-check';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { rowsOf } from '../cache/cache-test-kit';
import { E2e, startE2e, storeBody } from './e2e-kit';

const TTL_MESSAGE = 'ttlSeconds must be an integer from 1 to 2592000';
const COST_MESSAGE = 'generationCost must be a number from 0 to 9999';
const TOPIC_MESSAGE = 'context.topics must hold strings of 1..64 characters without control characters';

describe('POST /exercise-cache (store)', () => {
  let e: E2e;

  beforeAll(async () => {
    e = await startE2e();
  });
  afterAll(async () => {
    await e?.close();
  });

  const post = (body: unknown) => e.http().post('/exercise-cache').send(body as object);

  describe('storing', () => {
    it('answers 201 {key, expiresAt} and stores the exercise exactly as sent', async () => {
      const exercise = { question: 'Fill: ___', answer: 'x', choices: ['x', 'y'], nested: { deep: [1, 2, { three: true }], nothing: null }, unicode: 'ß😀' };
      const res = await post({ context: { type: 'store_exact', difficulty: 4, topics: ['Grammar ', 'verbs', 'grammar'] }, exercise }).expect(201);
      expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'key']);
      expect(res.body.key).toBe(cacheKeyFor({ type: 'store_exact', difficulty: 4, topics: ['grammar', 'verbs'] }));
      const [row] = await rowsOf(e.db.pool, 'cache_key = $1', [res.body.key]);
      expect(row.exercise_data).toEqual(exercise);
      expect(row.topics).toEqual(['grammar', 'verbs']);
      expect(row.expires_at.toISOString()).toBe(res.body.expiresAt);
      expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(86_400_000);
      expect(row.generation_cost).toBe('0.003000');
      expect(row.generation_time_ms).toBeNull();
    });

    it('stores ttlSeconds, generationCost and generationTimeMs as given', async () => {
      const res = await post(storeBody('store_options', ['a'], { ttlSeconds: 60, generationCost: 0.25, generationTimeMs: 1500 })).expect(201);
      const [row] = await rowsOf(e.db.pool, 'cache_key = $1', [res.body.key]);
      expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(60_000);
      expect(row.generation_cost).toBe('0.250000');
      expect(row.generation_time_ms).toBe(1500);
    });

    it('accepts the bounds: ttlSeconds 1 and 2592000, generationCost 0', async () => {
      await post(storeBody('store_bounds', ['low'], { ttlSeconds: 1, generationCost: 0 })).expect(201);
      const res = await post(storeBody('store_bounds', ['high'], { ttlSeconds: 2_592_000, generationCost: 9999 })).expect(201);
      expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(2_592_000_000 - 60_000);
    });

    it('replaces the exercise and expiry when the same context is posted again: one row', async () => {
      const first = await post(storeBody('store_again', ['a'], { exercise: { version: 1 }, ttlSeconds: 60 })).expect(201);
      const second = await post(storeBody('store_again', ['A'], { exercise: { version: 2 }, ttlSeconds: 3600 })).expect(201);
      expect(second.body.key).toBe(first.body.key);
      expect(Date.parse(second.body.expiresAt)).toBeGreaterThan(Date.parse(first.body.expiresAt));
      const rows = await rowsOf(e.db.pool, 'exercise_type = $1', ['store_again']);
      expect(rows).toHaveLength(1);
      expect(rows[0].exercise_data).toEqual({ version: 2 });
      const hit = await e.http().get('/exercise-cache?type=store_again&difficulty=3&topics=a').expect(200);
      expect(hit.body.exercise).toEqual({ version: 2 });
    });

    it('keeps one row and answers 201 to 200 concurrent posts of one context', async () => {
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => post(storeBody('store_concurrent', ['race'], { exercise: { writer: i } }))),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(200).fill(201));
      expect(new Set(responses.map((r) => r.body.key))).toEqual(new Set([cacheKeyFor({ type: 'store_concurrent', difficulty: 3, topics: ['race'] })]));
      const rows = await rowsOf(e.db.pool, 'exercise_type = $1', ['store_concurrent']);
      expect(rows).toHaveLength(1);
      const hit = await e.http().get('/exercise-cache?type=store_concurrent&difficulty=3&topics=race').expect(200);
      expect(hit.body.exercise).toEqual(rows[0].exercise_data);
    });
  });

  describe('validation', () => {
    it.each([
      ['ttlSeconds 0', { ttlSeconds: 0 }, [TTL_MESSAGE]],
      ['ttlSeconds 2592001', { ttlSeconds: 2_592_001 }, [TTL_MESSAGE]],
      ['ttlSeconds 1.5', { ttlSeconds: 1.5 }, [TTL_MESSAGE]],
      ['ttlSeconds as a string', { ttlSeconds: '60' }, [TTL_MESSAGE]],
      ['generationCost -0.01', { generationCost: -0.01 }, [COST_MESSAGE]],
      ['generationCost 10000', { generationCost: 10000 }, [COST_MESSAGE]],
      ['generationCost as a string', { generationCost: '0.1' }, [COST_MESSAGE]],
      ['generationTimeMs -1', { generationTimeMs: -1 }, ['generationTimeMs must be an integer from 0 to 2147483647']],
      ['generationTimeMs 1.5', { generationTimeMs: 1.5 }, ['generationTimeMs must be an integer from 0 to 2147483647']],
      ['variants 0', { variants: 0 }, ['variants must be an integer from 1 to 20']],
      ['variants 21', { variants: 21 }, ['variants must be an integer from 1 to 20']],
      ['an unknown field', { colour: 'red' }, ['colour: property colour should not exist']],
    ])('rejects %s with 400 naming the field', async (_, extra, messages) => {
      const res = await post(storeBody('store_invalid', ['a'], extra)).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: messages });
    });

    it.each([
      ['an unknown context field', { type: 'x', difficulty: 1, topics: [], extra: true }, ['context.extra: property extra should not exist']],
      ['a bad type', { type: 'Has Spaces', difficulty: 1, topics: [] }, ['context.type must be 1..50 characters of a-z, 0-9, "_" and "-"']],
      ['difficulty 0', { type: 'x', difficulty: 0, topics: [] }, ['context.difficulty must be an integer from 1 to 5']],
      ['difficulty "3"', { type: 'x', difficulty: '3', topics: [] }, ['context.difficulty must be an integer from 1 to 5']],
      ['21 topics', { type: 'x', difficulty: 1, topics: Array.from({ length: 21 }, (_, i) => `t${i}`) }, ['context.topics must hold at most 20 topics']],
      ['an empty topic', { type: 'x', difficulty: 1, topics: ['ok', ''] }, [TOPIC_MESSAGE]],
      ['a topic of 65 characters', { type: 'x', difficulty: 1, topics: ['y'.repeat(65)] }, [TOPIC_MESSAGE]],
      ['a number as topic', { type: 'x', difficulty: 1, topics: [7] }, [TOPIC_MESSAGE]],
      ['topics as a string', { type: 'x', difficulty: 1, topics: 'a,b' }, ['context.topics must be an array of strings']],
    ])('rejects a context with %s, naming the field', async (_, context, messages) => {
      const res = await post({ context, exercise: { q: 1 } }).expect(400);
      expect(res.body.statusCode).toBe(400);
      for (const message of messages) expect(res.body.message).toContain(message);
      expect(res.body.message.every((m: string) => m.startsWith('context.'))).toBe(true);
    });

    it.each([
      ['missing', undefined, ['exercise is required']],
      ['an array', [1, 2], ['exercise must be a JSON object nested at most 32 levels deep']],
      ['a string', 'text', ['exercise must be a JSON object nested at most 32 levels deep']],
      ['null', null, ['exercise is required']],
    ])('rejects an exercise that is %s', async (_, exercise, messages) => {
      const res = await post({ context: { type: 'x', difficulty: 1, topics: [] }, exercise }).expect(400);
      for (const message of messages) expect(res.body.message).toContain(message);
    });

    it('rejects an exercise nested deeper than 32 levels', async () => {
      let exercise: Record<string, unknown> = { leaf: true };
      for (let i = 0; i < 33; i++) exercise = { down: exercise };
      const res = await post({ context: { type: 'x', difficulty: 1, topics: [] }, exercise }).expect(400);
      expect(res.body.message).toEqual(['exercise must be a JSON object nested at most 32 levels deep']);
    });

    it('refuses an exercise of more than 10,000 values, naming the limit; nested values count', async () => {
      const exercise = { items: Array.from({ length: 5000 }, (_, i) => ({ n: i })) }; // 1 + 5,000 + 5,000 values
      const res = await post({ context: { type: 'too_big', difficulty: 1, topics: [] }, exercise }).expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: ['exercise must hold at most 10000 values (object members and array elements, counted at every level)'],
      });
      expect(await rowsOf(e.db.pool, 'exercise_type = $1', ['too_big'])).toHaveLength(0);
    });

    it('stores an exercise of exactly 10,000 values', async () => {
      const exercise = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]));
      const res = await post({ context: { type: 'just_fits', difficulty: 1, topics: [] }, exercise }).expect(201);
      const [row] = await rowsOf(e.db.pool, 'cache_key = $1', [res.body.key]);
      expect(row.exercise_data).toEqual(exercise);
    });

    it.each([
      ['toString at the top', { toString: 1 }, 'toString: property toString should not exist'],
      ['valueOf at the top', { valueOf: 'x' }, 'valueOf: property valueOf should not exist'],
      ['hasOwnProperty in the context', { context: { type: 'x', difficulty: 1, topics: [], hasOwnProperty: true } }, 'context.hasOwnProperty: property hasOwnProperty should not exist'],
      ['toString in the context', { context: { type: 'x', difficulty: 1, topics: [], toString: 'x' } }, 'context.toString: property toString should not exist'],
    ])('refuses a field named like an Object.prototype member (%s)', async (_, extra, message) => {
      const res = await post({ context: { type: 'proto_named', difficulty: 1, topics: [] }, exercise: { q: 1 }, ...extra }).expect(400);
      expect(res.body.message).toEqual([message]);
      expect(await rowsOf(e.db.pool, 'exercise_type = $1', ['proto_named'])).toHaveLength(0);
    });

    it('keeps exercise keys named like Object.prototype members: they are data, not fields', async () => {
      const exercise = { toString: 'a', valueOf: 1, hasOwnProperty: { isPrototypeOf: [true] } };
      const res = await post({ context: { type: 'proto_data', difficulty: 1, topics: [] }, exercise }).expect(201);
      const [row] = await rowsOf(e.db.pool, 'cache_key = $1', [res.body.key]);
      expect(row.exercise_data).toEqual(exercise);
    });

    it('limits a topic to 64 characters as stored (after normalisation), so every stored topic can be looked up', async () => {
      const fits = 'ﬃ'.repeat(21); // "ffi" x 21: 63 characters once case-folded
      const stored = await post({ context: { type: 'topic_folded', difficulty: 1, topics: [fits] }, exercise: { q: 1 } }).expect(201);
      const [row] = await rowsOf(e.db.pool, 'cache_key = $1', [stored.body.key]);
      expect(row.topics).toEqual(['ffi'.repeat(21)]);
      const hit = await e.http().get('/exercise-cache').query({ type: 'topic_folded', difficulty: 1, topics: fits }).expect(200);
      expect(hit.body.key).toBe(stored.body.key);
      await e.http().get('/exercise-cache').query({ type: 'topic_folded', difficulty: 1, topics: 'ffi'.repeat(21) }).expect(200);
      const tooLong = await post({ context: { type: 'topic_folded', difficulty: 1, topics: ['ß'.repeat(33)] }, exercise: { q: 1 } }).expect(400);
      expect(tooLong.body.message).toEqual([TOPIC_MESSAGE]);
    });

    it('rejects a body without context or exercise', async () => {
      const res = await post({}).expect(400);
      expect(res.body.message).toEqual(expect.arrayContaining(['context is required', 'exercise is required']));
    });

    it('answers malformed JSON with 400', async () => {
      const res = await e.http().post('/exercise-cache').set('Content-Type', 'application/json').send('{"context": {"type": "x",').expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: "Body is not valid JSON but content-type is set to 'application/json'" });
    });

    it('answers a body over 256 KB with 413', async () => {
      const res = await post(storeBody('store_big', ['a'], { exercise: { text: 'x'.repeat(256 * 1024) } })).expect(413);
      expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'Request body is too large' });
      expect(await rowsOf(e.db.pool, 'exercise_type = $1', ['store_big'])).toHaveLength(0);
    });

    it('accepts a body just under 256 KB', async () => {
      await post(storeBody('store_large', ['a'], { exercise: { text: 'x'.repeat(250 * 1024) } })).expect(201);
    });

    it.each([
      ['text/plain', 'hello'],
      ['application/x-www-form-urlencoded', 'context=1'],
      ['application/xml', '<exercise/>'],
    ])('answers Content-Type %s with 415', async (type, payload) => {
      const res = await e.http().post('/exercise-cache').set('Content-Type', type).send(payload).expect(415);
      expect(res.body.statusCode).toBe(415);
      expect(res.body.message).toContain(`unsupported Content-Type ${type}`);
    });

    it.each([
      ['a NUL character in a value', '{"q":"a\\u0000b"}'],
      ['a NUL character in a key', '{"a\\u0000":1}'],
      ['an unpaired surrogate', '{"q":"\\ud800"}'],
      ['a number too large for JSON', '{"q":1e400}'],
    ])('rejects an exercise with %s (PostgreSQL cannot store it) with 400', async (_, exercise) => {
      const res = await e.http().post('/exercise-cache').set('Content-Type', 'application/json')
        .send(`{"context":{"type":"store_unstorable","difficulty":1,"topics":[]},"exercise":${exercise}}`)
        .expect(400);
      expect(res.body.message).toEqual(['exercise must not contain NUL characters (\\u0000), unpaired surrogates or non-finite numbers']);
      expect(await rowsOf(e.db.pool, 'exercise_type = $1', ['store_unstorable'])).toEqual([]);
    });

    it('rejects a topic with an unpaired surrogate with 400', async () => {
      const res = await e.http().post('/exercise-cache').set('Content-Type', 'application/json')
        .send('{"context":{"type":"store_unstorable","difficulty":1,"topics":["\\udc00x"]},"exercise":{}}')
        .expect(400);
      expect(res.body.message).toEqual([TOPIC_MESSAGE]);
    });

    it('answers any JSON body with 201 or 400, never a 5xx, and serves back exactly what it stored', async () => {
      const text = fc.string({ unit: 'binary', maxLength: 12 });
      const json = fc.jsonValue({ maxDepth: 3 });
      const context = fc.oneof(
        { weight: 4, arbitrary: fc.record({ type: fc.constantFrom('fuzz', 'fuzz_b'), difficulty: fc.integer({ min: 1, max: 5 }), topics: fc.array(text, { maxLength: 3 }) }) },
        { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('fuzz', 'Bad'), difficulty: fc.oneof(fc.integer({ min: 0, max: 6 }), json), topics: fc.array(text, { maxLength: 3 }) }) },
        { weight: 1, arbitrary: json },
      );
      const exercise = fc.oneof({ weight: 4, arbitrary: fc.dictionary(text, fc.oneof(json, text), { maxKeys: 4 }) }, { weight: 1, arbitrary: json });
      const body = fc.oneof(
        { weight: 3, arbitrary: fc.record({ context, exercise }) },
        {
          weight: 1,
          arbitrary: fc.record(
            { context, exercise, ttlSeconds: fc.oneof(fc.integer({ min: -1, max: 3_000_000 }), json), variants: fc.integer({ min: 0, max: 21 }), extra: json },
            { requiredKeys: ['context', 'exercise'] },
          ),
        },
      );
      let stored = 0;
      await fc.assert(
        fc.asyncProperty(body, async (sent) => {
          const res = await e.http().post('/exercise-cache').set('Content-Type', 'application/json').send(JSON.stringify(sent));
          expect([201, 400]).toContain(res.status);
          if (res.status === 201) {
            stored += 1;
            const served = await e.http().get(`/exercise-cache/${res.body.key}`).expect(200);
            expect(served.body.exercise).toEqual(JSON.parse(JSON.stringify(sent.exercise)));
          }
        }),
        { numRuns: 60 },
      );
      expect(stored).toBeGreaterThan(5); // the round trip was checked, not only the rejections
    });

    it('never stores anything for a rejected request', async () => {
      expect(await rowsOf(e.db.pool, "exercise_type IN ('store_invalid', 'x')")).toEqual([]);
    });
  });
});
