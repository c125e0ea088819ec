import {
  InvalidCacheRequestError,
  MAX_DIFFICULTY,
  MAX_EXCLUDED_KEYS,
  MAX_GENERATION_COST,
  MAX_GENERATION_TIME_MS,
  MAX_GENERATOR_VERSION_LENGTH,
  MAX_NAMESPACE_LENGTH,
  MAX_TOPICS,
  MAX_TOPIC_LENGTH,
  MAX_TTL_SECONDS,
  MAX_TYPE_LENGTH,
  MAX_VARIANTS,
} from '../../src/cache/context-rules';
import { createExerciseCache } from '../../src/library/create-exercise-cache';
import type { ExerciseCacheDB } from '../../src/library/exercise-cache-db';
import { E2e, startE2e } from './e2e-kit';

const KEY = 'a'.repeat(64);
const topicsOf = (count: number) => Array.from({ length: count }, (_, i) => `t${i}`);
const good = { type: 'parity', difficulty: 3, topics: ['a'] };

/**
 * One source for each rule (src/cache/context-rules.ts): for the same bad input, the HTTP API's 400
 * and the library's InvalidCacheRequestError give the same message, so they name the same field
 * and the same limit, and the limit is the one context-rules.ts exports.
 */
describe('context rules: one source for the API and the library', () => {
  let e: E2e;
  let library: ExerciseCacheDB;

  beforeAll(async () => {
    e = await startE2e();
    library = createExerciseCache({ databaseUrl: e.db.url, logger: false });
  });
  afterAll(async () => {
    await library?.close();
    await e?.close();
  });

  const libraryError = async (call: Promise<unknown>): Promise<InvalidCacheRequestError> => {
    const error = await call.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(InvalidCacheRequestError);
    return error as InvalidCacheRequestError;
  };

  describe('storing: POST /exercise-cache and set()', () => {
    it.each([
      ['a type with a space', { context: { ...good, type: 'Bad Type' } }, 'context.type', MAX_TYPE_LENGTH],
      ['a type one character too long', { context: { ...good, type: 'x'.repeat(MAX_TYPE_LENGTH + 1) } }, 'context.type', MAX_TYPE_LENGTH],
      ['difficulty above the highest', { context: { ...good, difficulty: MAX_DIFFICULTY + 1 } }, 'context.difficulty', MAX_DIFFICULTY],
      ['one topic too many', { context: { ...good, topics: topicsOf(MAX_TOPICS + 1) } }, 'context.topics', MAX_TOPICS],
      ['a topic one character too long', { context: { ...good, topics: ['x'.repeat(MAX_TOPIC_LENGTH + 1)] } }, 'context.topics', MAX_TOPIC_LENGTH],
      ['topics as a string', { context: { ...good, topics: 'a,b' } }, 'context.topics', undefined],
      ['a namespace one character too long', { context: { ...good, namespace: 'x'.repeat(MAX_NAMESPACE_LENGTH + 1) } }, 'context.namespace', MAX_NAMESPACE_LENGTH],
      ['ttlSeconds above the longest', { ttlSeconds: MAX_TTL_SECONDS + 1 }, 'ttlSeconds', MAX_TTL_SECONDS],
      ['variants above the most', { variants: MAX_VARIANTS + 1 }, 'variants', MAX_VARIANTS],
      ['generationCost above the highest', { generationCost: MAX_GENERATION_COST + 1 }, 'generationCost', MAX_GENERATION_COST],
      ['a negative generationTimeMs', { generationTimeMs: -1 }, 'generationTimeMs', MAX_GENERATION_TIME_MS],
      ['a generatorVersion one character too long', { generatorVersion: 'v'.repeat(MAX_GENERATOR_VERSION_LENGTH + 1) }, 'generatorVersion', MAX_GENERATOR_VERSION_LENGTH],
    ])('%s', async (_name, bad: Record<string, unknown>, field, limit) => {
      const { context = good, ...options } = bad;
      const res = await e.http().post('/exercise-cache').send({ context, exercise: { q: 1 }, ...options }).expect(400);
      const error = await libraryError(library.set(context as never, { q: 1 }, options));
      expect(res.body.message).toEqual([error.message]);
      expect(error.field).toBe(field);
      expect(error.message.startsWith(`${field} must `)).toBe(true);
      if (limit !== undefined) expect(error.message).toContain(String(limit));
    });
  });

  describe('looking up: GET /exercise-cache and lookup()', () => {
    // A query parameter is named without the "context." of the library's context argument.
    it.each([
      ['difficulty above the highest', { difficulty: MAX_DIFFICULTY + 1 }, {}, 'difficulty', MAX_DIFFICULTY],
      ['one topic too many', { topics: topicsOf(MAX_TOPICS + 1) }, {}, 'topics', MAX_TOPICS],
      ['a topic one character too long', { topics: ['x'.repeat(MAX_TOPIC_LENGTH + 1)] }, {}, 'topics', MAX_TOPIC_LENGTH],
      ['a namespace one character too long', { namespace: 'x'.repeat(MAX_NAMESPACE_LENGTH + 1) }, {}, 'namespace', MAX_NAMESPACE_LENGTH],
      ['variants above the most', {}, { variants: MAX_VARIANTS + 1 }, 'variants', MAX_VARIANTS],
      ['one excluded key too many', {}, { exclude: Array.from({ length: MAX_EXCLUDED_KEYS + 1 }, () => KEY) }, 'exclude', MAX_EXCLUDED_KEYS],
    ])('%s', async (_name, contextChange: Record<string, unknown>, options: Record<string, unknown>, field, limit) => {
      const context: Record<string, unknown> = { ...good, ...contextChange };
      const query: Record<string, string> = { type: String(context.type), difficulty: String(context.difficulty), topics: (context.topics as string[]).join(',') };
      if (context.namespace !== undefined) query.namespace = String(context.namespace);
      for (const [name, value] of Object.entries(options)) query[name] = Array.isArray(value) ? value.join(',') : String(value);
      const res = await e.http().get('/exercise-cache').query(query).expect(400);
      const error = await libraryError(library.lookup(context as never, options));
      expect(res.body.message).toEqual([error.message.replace(/^context\./, '')]);
      expect(error.field.replace(/^context\./, '')).toBe(field);
      expect(error.message).toContain(String(limit));
    });
  });
});
