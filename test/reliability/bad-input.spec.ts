import { STATUS_CODES } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { TestApp, startTestApp } from '../support/test-app';

/**
 * Malformed requests: each answered with a 4xx whose message names the problem, and none of them
 * changes the database. A rejected request is not a lookup, so not even the hit/miss counters in
 * exercise_cache_lookup_stats may move: the snapshot covers both tables around every request in
 * the table, GETs included (buffered counters are flushed before each snapshot, so a counter
 * written late by an earlier valid request cannot pass for a change).
 */

const BODY_LIMIT = 64 * 1024;
const valid = { context: { type: 'fill', difficulty: 3, topics: ['colors'] }, exercise: { q: 'The sky is ___', a: 'blue' } };
const withContext = (patch: Record<string, unknown>) => ({ ...valid, context: { ...valid.context, ...patch } });
const without = (field: 'context' | 'exercise') => {
  const copy: Record<string, unknown> = { ...valid };
  delete copy[field];
  return copy;
};
const contextWithout = (field: string) => {
  const context: Record<string, unknown> = { ...valid.context };
  delete context[field];
  return { ...valid, context };
};
const nested = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const topics = (n: number) => Array.from({ length: n }, (_, i) => `topic-${i}`);
const KEY = 'a'.repeat(64);
const q = (query: string) => `/exercise-cache?${query}`;
const LOOKUP = 'type=fill&difficulty=3&topics=colors';

interface Case {
  name: string;
  request: InjectOptions;
  status: number;
  /** Must appear in the message (a field name, or what is wrong with the body). */
  names: string | RegExp;
}

const post = (name: string, payload: unknown, names: string | RegExp, status = 400): Case => ({
  name,
  request: { method: 'POST', url: '/exercise-cache', payload: payload as InjectOptions['payload'] },
  status,
  names,
});
const postRaw = (name: string, body: string, names: string | RegExp, contentType = 'application/json', status = 400): Case => ({
  name,
  request: { method: 'POST', url: '/exercise-cache', payload: body, headers: { 'content-type': contentType } },
  status,
  names,
});
const encoded = (name: string, encoding: string, body: string | Buffer, names: RegExp): Case => ({
  name,
  request: { method: 'POST', url: '/exercise-cache', payload: body, headers: { 'content-type': 'application/json', 'content-encoding': encoding } },
  status: 415,
  names,
});
const get = (name: string, url: string, names: string | RegExp, status = 400): Case => ({ name, request: { method: 'GET', url }, status, names });
const del = (name: string, url: string, names: string | RegExp, status = 400): Case => ({ name, request: { method: 'DELETE', url }, status, names });

const cases: Case[] = [
  // POST /exercise-cache: the context
  post('difficulty as a string', withContext({ difficulty: '3' }), 'difficulty'),
  post('difficulty 0', withContext({ difficulty: 0 }), 'difficulty'),
  post('difficulty 6', withContext({ difficulty: 6 }), 'difficulty'),
  post('difficulty -1', withContext({ difficulty: -1 }), 'difficulty'),
  post('fractional difficulty', withContext({ difficulty: 2.5 }), 'difficulty'),
  post('difficulty null', withContext({ difficulty: null }), 'difficulty'),
  post('difficulty "NaN"', withContext({ difficulty: 'NaN' }), 'difficulty'),
  postRaw('difficulty 1e999 (Infinity after parsing)', JSON.stringify(valid).replace('"difficulty":3', '"difficulty":1e999'), 'difficulty'),
  post('difficulty as SQL', withContext({ difficulty: '3; DROP TABLE exercise_cache' }), 'difficulty'),
  post('missing difficulty', contextWithout('difficulty'), 'difficulty'),
  post('missing type', contextWithout('type'), 'type'),
  post('missing topics', contextWithout('topics'), 'topics'),
  post('type as a number', withContext({ type: 7 }), 'type'),
  post('empty type', withContext({ type: '' }), 'type'),
  post('51-character type', withContext({ type: 'x'.repeat(51) }), 'type'),
  post('upper-case type', withContext({ type: 'Fill' }), 'type'),
  post('emoji in type', withContext({ type: 'fill😀' }), 'type'),
  post('accented letter in type', withContext({ type: 'fïll' }), 'type'),
  post('right-to-left override in type', withContext({ type: 'fill\u202e' }), 'type'),
  post('NUL byte in type', withContext({ type: 'fill\u0000' }), 'type'),
  post('SQL in type', withContext({ type: "fill'; DROP TABLE exercise_cache;--" }), 'type'),
  post('21 topics', withContext({ topics: topics(21) }), 'topics'),
  post('65-character topic', withContext({ topics: ['t'.repeat(65)] }), 'topics'),
  post('empty topic', withContext({ topics: [''] }), 'topics'),
  post('blank topic', withContext({ topics: ['   '] }), 'topics'),
  post('NUL byte in a topic', withContext({ topics: ['col\u0000ors'] }), 'topics'),
  post('newline in a topic', withContext({ topics: ['col\nors'] }), 'topics'),
  post('topics as a string', withContext({ topics: 'colors,anatomy' }), 'topics'),
  post('a number among topics', withContext({ topics: ['colors', 5] }), 'topics'),
  post('unknown field in context', withContext({ language: 'en' }), 'language'),
  post('context as a string', { ...valid, context: 'fill/3/colors' }, 'context'),
  post('context as an array', { ...valid, context: [valid.context] }, 'context'),
  post('missing context', without('context'), 'context'),
  // POST /exercise-cache: the exercise
  post('missing exercise', without('exercise'), 'exercise'),
  post('exercise null', { ...valid, exercise: null }, 'exercise'),
  post('exercise as an array', { ...valid, exercise: [1, 2] }, 'exercise'),
  post('exercise as a string', { ...valid, exercise: 'The sky is ___' }, 'exercise'),
  post('exercise as a number', { ...valid, exercise: 42 }, 'exercise'),
  postRaw('exercise nested 33 levels', `{"context":${JSON.stringify(valid.context)},"exercise":${nested(33)}}`, 'exercise'),
  postRaw('exercise nested 10,000 levels (within the body limit)', `{"context":${JSON.stringify(valid.context)},"exercise":${nested(10000)}}`, 'exercise'),
  postRaw('exercise larger than the body limit', JSON.stringify({ ...valid, exercise: { text: 'x'.repeat(BODY_LIMIT) } }), /body/i, 'application/json', 413),
  // POST /exercise-cache: options and unknown fields
  post('unknown top-level field', { ...valid, priority: 'high' }, 'priority'),
  post('negative ttlSeconds', { ...valid, ttlSeconds: -60 }, 'ttlSeconds'),
  post('ttlSeconds 0', { ...valid, ttlSeconds: 0 }, 'ttlSeconds'),
  post('huge ttlSeconds', { ...valid, ttlSeconds: 10 ** 12 }, 'ttlSeconds'),
  post('ttlSeconds beyond 2^53', { ...valid, ttlSeconds: 2 ** 60 }, 'ttlSeconds'),
  postRaw('ttlSeconds 1e999 (Infinity)', JSON.stringify({ ...valid, ttlSeconds: 1 }).replace('"ttlSeconds":1', '"ttlSeconds":1e999'), 'ttlSeconds'),
  post('fractional ttlSeconds', { ...valid, ttlSeconds: 1.5 }, 'ttlSeconds'),
  post('ttlSeconds as a string', { ...valid, ttlSeconds: '3600' }, 'ttlSeconds'),
  post('negative generationCost', { ...valid, generationCost: -0.01 }, 'generationCost'),
  post('generationCost as a string', { ...valid, generationCost: 'cheap' }, 'generationCost'),
  postRaw('generationCost -1e999 (-Infinity)', JSON.stringify({ ...valid, generationCost: 1 }).replace('"generationCost":1', '"generationCost":-1e999'), 'generationCost'),
  post('negative generationTimeMs', { ...valid, generationTimeMs: -1 }, 'generationTimeMs'),
  post('variants 0', { ...valid, variants: 0 }, 'variants'),
  post('variants 21', { ...valid, variants: 21 }, 'variants'),
  // POST /exercise-cache: the body itself
  postRaw('malformed JSON', '{"context": {"type": "fill",', /JSON/i),
  postRaw('NaN literal (not JSON)', JSON.stringify(valid).replace('"difficulty":3', '"difficulty":NaN'), /JSON/i),
  postRaw('a JSON array as the body', JSON.stringify([valid]), /context|object/),
  postRaw('a JSON string as the body', '"fill"', /context|object/),
  postRaw('JSON null as the body', 'null', /context|object/),
  postRaw('empty body', '', /body|context/i),
  postRaw('__proto__ key (prototype poisoning)', `{"__proto__":{"admin":true},"context":${JSON.stringify(valid.context)},"exercise":{"q":1}}`, '__proto__: the key "__proto__" is not allowed'),
  postRaw('__proto__ key inside the exercise', `{"context":${JSON.stringify(valid.context)},"exercise":{"a":{"__proto__":{"admin":true}}}}`, 'exercise.a.__proto__: the key "__proto__" is not allowed'),
  postRaw('constructor.prototype inside the exercise', `{"context":${JSON.stringify(valid.context)},"exercise":{"constructor":{"prototype":{"admin":true}}}}`, 'exercise.constructor: the key "constructor" is not allowed'),
  postRaw('a duplicate key in the exercise', `{"context":${JSON.stringify(valid.context)},"exercise":{"q":1,"q":2}}`, 'exercise.q: the key "q" appears more than once'),
  postRaw('a duplicate key spelled with an escape', `{"context":${JSON.stringify(valid.context)},"exercise":{"list":[{"q":1,"\\u0071":2}]}}`, 'exercise.list.0.q: the key "q" appears more than once'),
  postRaw('a duplicate top-level field', `{"context":${JSON.stringify(valid.context)},"exercise":{"q":1},"exercise":{"q":2}}`, 'exercise: the key "exercise" appears more than once'),
  encoded('a br-labelled plain body', 'br', JSON.stringify(valid), /Content-Encoding br/),
  encoded('a gzip body', 'gzip', gzipSync(JSON.stringify(valid)), /Content-Encoding gzip/),
  post('an exercise of 10,001 values', { ...valid, exercise: { list: new Array(10_000).fill(0) } }, 'exercise must hold at most 10000 values'),
  post('a field named toString', { ...valid, toString: 'x' }, 'toString: property toString should not exist'),
  post('a context field named valueOf', withContext({ valueOf: 1 }), 'context.valueOf: property valueOf should not exist'),
  post('a context field named hasOwnProperty', withContext({ hasOwnProperty: true }), 'context.hasOwnProperty: property hasOwnProperty should not exist'),
  post('a C1 control character (U+0085) in a topic', withContext({ topics: ['col\u0085ors'] }), 'topics'),
  post('a C1 control character (U+009F) in a topic', withContext({ topics: ['\u009f'] }), 'topics'),
  post('a topic of 64 "ﬃ" (192 characters once normalised)', withContext({ topics: ['ﬃ'.repeat(64)] }), 'topics'),
  postRaw('text/plain content type', JSON.stringify(valid), /Content-Type text\/plain.*application\/json/, 'text/plain', 415),
  postRaw('form content type', 'context=fill&exercise=x', /Content-Type application\/x-www-form-urlencoded/, 'application/x-www-form-urlencoded', 415),
  postRaw('XML content type', '<context/>', /Content-Type application\/xml/, 'application/xml', 415),
  // GET /exercise-cache
  get('missing type', q('difficulty=3'), 'type'),
  get('missing difficulty', q('type=fill'), 'difficulty'),
  get('difficulty not a number', q('type=fill&difficulty=abc'), 'difficulty'),
  get('fractional difficulty', q('type=fill&difficulty=2.5'), 'difficulty'),
  get('difficulty 0', q('type=fill&difficulty=0'), 'difficulty'),
  get('difficulty NaN', q('type=fill&difficulty=NaN'), 'difficulty'),
  get('difficulty Infinity', q('type=fill&difficulty=Infinity'), 'difficulty'),
  get('difficulty in hex', q('type=fill&difficulty=0x3'), 'difficulty'),
  get('difficulty given twice', q('type=fill&difficulty=1&difficulty=2'), 'difficulty'),
  get('type given twice', q('type=fill&type=match&difficulty=1'), 'type'),
  get('emoji in type', q(`type=${encodeURIComponent('fill😀')}&difficulty=3`), 'type'),
  get('NUL byte in type', q('type=fill%00&difficulty=3'), 'type'),
  get('SQL in type', q(`type=${encodeURIComponent("fill' OR '1'='1")}&difficulty=3`), 'type'),
  get('NUL byte in a topic', q('type=fill&difficulty=3&topics=col%00ors'), 'topics'),
  get('a C1 control character in a topic', q(`type=fill&difficulty=3&topics=${encodeURIComponent('col\u0080ors')}`), 'topics'),
  get('a topic of 64 "ﬃ"', q(`type=fill&difficulty=3&topics=${encodeURIComponent('ﬃ'.repeat(64))}`), 'topics'),
  get('a parameter named toString', q(`${LOOKUP}&toString=1`), 'toString: property toString should not exist'),
  get('a parameter named hasOwnProperty', q(`${LOOKUP}&hasOwnProperty=1`), 'hasOwnProperty: property hasOwnProperty should not exist'),
  get('21 topics', q(`type=fill&difficulty=3&topics=${topics(21).join(',')}`), 'topics'),
  get('65-character topic', q(`type=fill&difficulty=3&topics=${'t'.repeat(65)}`), 'topics'),
  get('unknown query parameter', q(`${LOOKUP}&sort=desc`), 'sort'),
  get('variants 0', q(`${LOOKUP}&variants=0`), 'variants'),
  get('variants 21', q(`${LOOKUP}&variants=21`), 'variants'),
  get('malformed exclude', q(`${LOOKUP}&variants=3&exclude=not-a-key`), 'exclude'),
  get('101 excluded keys', q(`${LOOKUP}&variants=3&exclude=${Array(101).fill(KEY).join(',')}`), 'exclude'),
  get('near: minOverlap 0', `/exercise-cache/near?${LOOKUP}&minOverlap=0`, 'minOverlap'),
  get('near: limit 101', `/exercise-cache/near?${LOOKUP}&limit=101`, 'limit'),
  get('popular: limit 0', '/exercise-cache/popular?limit=0', 'limit'),
  get('lru: limit abc', '/exercise-cache/lru?limit=abc', 'limit'),
  get('daily metrics: days -1', '/exercise-cache/metrics/daily?days=-1', 'days'),
  // /exercise-cache/:key
  get('short key', '/exercise-cache/abc123', 'key'),
  get('upper-case key', `/exercise-cache/${'A'.repeat(64)}`, 'key'),
  get('65-character key', `/exercise-cache/${'a'.repeat(65)}`, 'key'),
  get('SQL as key', `/exercise-cache/${encodeURIComponent("' OR 1=1 --")}`, 'key'),
  del('DELETE with a short key', '/exercise-cache/abc123', 'key'),
  del('DELETE with an upper-case key', `/exercise-cache/${'A'.repeat(64)}`, 'key'),
  del('DELETE with SQL as key', `/exercise-cache/${encodeURIComponent("x'; TRUNCATE exercise_cache;--")}`, 'key'),
  del('DELETE by context without a type', q('difficulty=3'), 'type'),
  del('DELETE by context with a bad difficulty', q('type=fill&difficulty=9'), 'difficulty'),
];

function messageOf(res: LightMyRequestResponse): string {
  const body = res.json() as { message?: unknown };
  return Array.isArray(body.message) ? body.message.join('; ') : String(body.message);
}

describe('bad input', () => {
  let db: TestDatabase;
  let t: TestApp;
  let cache: ExerciseCacheService;

  const snapshot = async (): Promise<string[]> => {
    await cache.flushUsage();
    const { rows } = await db.pool.query<{ row: string }>(
      `SELECT 'exercise_cache ' || t::text AS row FROM exercise_cache t
       UNION ALL SELECT 'exercise_cache_lookup_stats ' || s::text FROM exercise_cache_lookup_stats s ORDER BY 1`,
    );
    return rows.map((r) => r.row);
  };
  const inject = (options: InjectOptions) => t.app.getHttpAdapter().getInstance().inject(options) as Promise<LightMyRequestResponse>;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url, { BODY_LIMIT_BYTES: String(BODY_LIMIT), RATE_LIMIT_MAX: '0' });
    cache = t.app.get(ExerciseCacheService);
    // Rows and counters that a wrongly accepted request could change.
    expect((await inject({ method: 'POST', url: '/exercise-cache', payload: valid })).statusCode).toBe(201);
    expect((await inject({ method: 'POST', url: '/exercise-cache', payload: withContext({ topics: ['anatomy'] }) })).statusCode).toBe(201);
    expect((await inject({ method: 'GET', url: q(LOOKUP) })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: q('type=fill&difficulty=3&topics=nothing') })).statusCode).toBe(404);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s -> 4xx naming the problem, database unchanged', async (_name, c) => {
    const before = await snapshot();
    expect(before.length).toBeGreaterThanOrEqual(3);
    const res = await inject(c.request);
    expect({ status: res.statusCode, message: messageOf(res) }).toEqual({
      status: c.status,
      message: typeof c.names === 'string' ? expect.stringContaining(c.names) : expect.stringMatching(c.names),
    });
    // One shape for every 4xx, whoever raised it: the HTTP reason phrase as `error`.
    expect(Object.keys(res.json()).sort()).toEqual(['error', 'message', 'statusCode']);
    expect(res.json()).toMatchObject({ statusCode: c.status, error: STATUS_CODES[c.status] });
    expect(await snapshot()).toEqual(before);
  });

  it('stores SQL and odd unicode in topics as plain data (parameterised queries)', async () => {
    const sqlTopic = "x'); DELETE FROM exercise_cache;--";
    const payload = withContext({ type: 'sql_probe', topics: [sqlTopic, 'café', '日本語', '🙂'] });
    const res = await inject({ method: 'POST', url: '/exercise-cache', payload });
    expect(res.statusCode).toBe(201);
    const { rows } = await db.pool.query<{ topics: string[]; n: number }>(
      "SELECT topics, (SELECT count(*)::int FROM exercise_cache) AS n FROM exercise_cache WHERE exercise_type = 'sql_probe'",
    );
    // Topics are stored normalised (lower-cased, sorted); the SQL text is just a topic.
    expect(rows).toEqual([{ topics: [sqlTopic.toLowerCase(), 'café', '日本語', '🙂'].sort(), n: 3 }]);
    const hit = await inject({ method: 'GET', url: q(`type=sql_probe&difficulty=3&topics=${encodeURIComponent(`${sqlTopic},café,日本語,🙂`)}`) });
    expect(hit.statusCode).toBe(200);
  });
});
