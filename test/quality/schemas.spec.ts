import { rmSync } from 'node:fs';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseSchemaViolationError } from '../../src/quality/schemas/exercise-schema.errors';
import { E2e, startE2e } from '../e2e/e2e-kit';
import { CLOZE_SCHEMA, schemaDir, validCloze } from './schema-fixtures';

const cloze = (topics: string[] = ['sky']) => ({ type: 'cloze', difficulty: 2, topics });
const invalidCloze = { sentence: 'The sky is ___', answer: 42 };

describe('exercise schemas', () => {
  let e2e: E2e;
  let cache: ExerciseCacheService;
  let dir: string;
  const rowCount = async () => Number((await e2e.db.pool.query('SELECT count(*) AS n FROM exercise_cache')).rows[0].n);

  beforeAll(async () => {
    dir = schemaDir({ 'cloze.schema.json': CLOZE_SCHEMA });
    e2e = await startE2e({ EXERCISE_SCHEMAS_DIR: dir });
    cache = e2e.t.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await e2e?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => e2e.db.pool.query('DELETE FROM exercise_cache'));

  describe('GET /exercise-cache/schemas', () => {
    it('lists each type with its schema', async () => {
      const response = await e2e.http().get('/exercise-cache/schemas').expect(200);
      expect(response.body).toEqual([{ exerciseType: 'cloze', schema: CLOZE_SCHEMA }]);
    });
  });

  describe('POST /exercise-cache', () => {
    it('answers 400 naming the JSON pointer and the rule, and stores nothing', async () => {
      const response = await e2e.http().post('/exercise-cache').send({ context: cloze(), exercise: invalidCloze }).expect(400);
      expect(response.body).toMatchObject({
        statusCode: 400,
        error: 'Bad Request',
        message: ['exercise does not match the schema of type "cloze": at /answer must be string (rule "type", #/properties/answer/type)'],
        exerciseType: 'cloze',
        pointer: '/answer',
        rule: 'type',
        schemaPath: '#/properties/answer/type',
      });
      expect(await rowCount()).toBe(0);
    });

    it('leaves an existing entry untouched when its replacement is invalid', async () => {
      await e2e.http().post('/exercise-cache').send({ context: cloze(), exercise: validCloze(1) }).expect(201);
      await e2e.http().post('/exercise-cache').send({ context: cloze(), exercise: { sentence: 'no blank', answer: 'x' } }).expect(400);
      const hit = await e2e.http().get('/exercise-cache').query({ type: 'cloze', difficulty: 2, topics: 'sky' }).expect(200);
      expect(hit.body.exercise).toEqual(validCloze(1));
    });

    it('stores a matching exercise, and any exercise of a type without a schema', async () => {
      await e2e.http().post('/exercise-cache').send({ context: cloze(), exercise: validCloze() }).expect(201);
      await e2e.http().post('/exercise-cache').send({ context: { ...cloze(), type: 'quiz' }, exercise: { free: ['form'] } }).expect(201);
      expect(await rowCount()).toBe(2);
    });
  });

  describe('ExerciseCacheService', () => {
    it('set() and setVariant() throw ExerciseSchemaViolationError and store nothing', async () => {
      await expect(cache.set(cloze(), invalidCloze)).rejects.toThrow(ExerciseSchemaViolationError);
      await expect(cache.set(cloze(), invalidCloze, { variants: 3 })).rejects.toMatchObject({ violation: { pointer: '/answer', rule: 'type' } });
      await expect(cache.setVariant(cloze(), 2, { answer: 'blue' })).rejects.toMatchObject({ violation: { pointer: '/sentence', rule: 'required' } });
      expect(await rowCount()).toBe(0);
    });

    describe('getOrGenerate', () => {
      /** Returns invalid exercises `invalidCalls` times, then valid ones. */
      const flakyGenerator = (invalidCalls: number) => {
        let calls = 0;
        return jest.fn(async () => (++calls <= invalidCalls ? { sentence: `broken ${calls}`, answer: 'x' } : validCloze(calls)));
      };

      it('with the default 2 attempts: two invalid results are an error and nothing is cached; the next call generates again', async () => {
        const generate = flakyGenerator(2);
        await expect(cache.getOrGenerate(cloze(), generate)).rejects.toMatchObject({ violation: { pointer: '/sentence', rule: 'pattern' } });
        expect(generate).toHaveBeenCalledTimes(2);
        expect(await rowCount()).toBe(0);

        await expect(cache.getOrGenerate(cloze(), generate)).resolves.toEqual(validCloze(3));
        expect(generate).toHaveBeenCalledTimes(3);
        expect((await e2e.db.pool.query('SELECT exercise_data FROM exercise_cache WHERE cache_key = $1', [cacheKeyFor(cloze())])).rows).toEqual([
          { exercise_data: validCloze(3) },
        ]);
      });

      it('returns and caches the first valid result within generateAttempts', async () => {
        const generate = flakyGenerator(2);
        await expect(cache.getOrGenerate(cloze(['sea']), generate, { generateAttempts: 3 })).resolves.toEqual(validCloze(3));
        expect(generate).toHaveBeenCalledTimes(3);
        expect(await cache.get(cloze(['sea']))).toEqual(validCloze(3));
      });

      it('does not retry an error thrown by generate()', async () => {
        const generate = jest.fn(async () => {
          throw new Error('model unavailable');
        });
        await expect(cache.getOrGenerate(cloze(['rain']), generate)).rejects.toThrow('model unavailable');
        expect(generate).toHaveBeenCalledTimes(1);
      });

      it('refuses generateAttempts outside 1..10', async () => {
        await expect(cache.getOrGenerate(cloze(), flakyGenerator(0), { generateAttempts: 0 })).rejects.toMatchObject({
          response: { message: ['generateAttempts must be an integer from 1 to 10'] },
        });
      });
    });
  });

  it('counts refused exercises in /metrics by type and source', async () => {
    await e2e.http().post('/exercise-cache').send({ context: cloze(), exercise: invalidCloze }).expect(400);
    const metrics = await e2e.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(/exercise_cache_schema_violations_total\{exercise_type="cloze",source="write"\} [1-9]/);
    expect(metrics.text).toMatch(/exercise_cache_schema_violations_total\{exercise_type="cloze",source="generate"\} [1-9]/);
  });
});
