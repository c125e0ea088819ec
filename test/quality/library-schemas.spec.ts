import { rmSync } from 'node:fs';
import { Test } from '@nestjs/testing';
import { Pool } from 'pg';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { OpenedExerciseCache, openExerciseCache } from '../../src/library/open-exercise-cache';
import { ExerciseCacheModule } from '../../src/nest/exercise-cache.module';
import { ExerciseSchemaViolationError, InvalidExerciseSchemaError } from '../../src/quality/schemas/exercise-schema.errors';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { CLOZE_SCHEMA, schemaDir, validCloze } from './schema-fixtures';

/** The package (openExerciseCache, under createExerciseCacheDB) and the Nest module take schemas as options. */
describe('exercise schemas through the package and Nest options', () => {
  let db: TestDatabase;
  let pool: Pool;
  const dirs: string[] = [];
  const opened: OpenedExerciseCache[] = [];
  const cloze = (topic: string) => ({ type: 'cloze', difficulty: 2, topics: [topic] });
  const rowCount = async () => Number((await db.pool.query('SELECT count(*) AS n FROM exercise_cache')).rows[0].n);
  const open = async (options: Parameters<typeof openExerciseCache>[0]) => {
    const cache = openExerciseCache({ pool, logger: false, ...options });
    opened.push(cache);
    await cache.start();
    return cache.core.service;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(async () => {
    for (const cache of opened) await cache.close();
    await pool.end();
    await db.drop();
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });
  beforeEach(() => db.pool.query('DELETE FROM exercise_cache'));

  it('exerciseSchemas: set refuses a violation naming pointer and rule; getOrGenerate retries generate()', async () => {
    const cache = await open({ exerciseSchemas: { cloze: CLOZE_SCHEMA } });
    await expect(cache.set(cloze('a'), { sentence: 'The sky is ___', answer: 7 })).rejects.toThrow(ExerciseSchemaViolationError);
    await expect(cache.set(cloze('a'), { sentence: 'The sky is ___', answer: 7 })).rejects.toMatchObject({ violation: { pointer: '/answer', rule: 'type' } });
    expect(await rowCount()).toBe(0);

    let calls = 0;
    const generate = jest.fn(async () => (++calls === 1 ? { sentence: 'no blank', answer: 'x' } : validCloze(calls)));
    expect(await cache.getOrGenerate(cloze('b'), generate)).toEqual(validCloze(2));
    expect(generate).toHaveBeenCalledTimes(2);
    expect(await rowCount()).toBe(1);
  });

  it('schemasDir: reads <type>.schema.json once; a broken file is one line naming it; two schema options at once are refused', async () => {
    const dir = schemaDir({ 'cloze.schema.json': CLOZE_SCHEMA });
    dirs.push(dir);
    const cache = await open({ schemasDir: dir });
    await expect(cache.setVariant(cloze('c'), 2, { answer: 'blue' })).rejects.toMatchObject({ violation: { pointer: '/sentence', rule: 'required' } });

    const broken = schemaDir({ 'cloze.schema.json': '{ not json' });
    dirs.push(broken);
    let thrown: unknown;
    try {
      openExerciseCache({ databaseUrl: db.url, schemasDir: broken, logger: false });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidExerciseSchemaError);
    expect((thrown as Error).message).toMatch(/^invalid exercise schema file .*cloze\.schema\.json: not valid JSON/);
    expect(() => openExerciseCache({ pool, exerciseSchemas: {}, schemasDir: dir })).toThrow('give only one of schemas, exerciseSchemas and schemasDir');
  });

  it('ExerciseCacheModule.forRoot({ pool, exerciseSchemas }) gives a service that checks them', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ExerciseCacheModule.forRoot({ pool, logger: false, exerciseSchemas: { cloze: CLOZE_SCHEMA } })],
    }).compile();
    await moduleRef.init();
    try {
      const cache = moduleRef.get(ExerciseCacheService);
      await expect(cache.set(cloze('nest'), { sentence: 'x ___' })).rejects.toMatchObject({ violation: { pointer: '/answer', rule: 'required' } });
      await expect(cache.set(cloze('nest'), validCloze())).resolves.toMatchObject({ key: expect.any(String) });
    } finally {
      await moduleRef.close();
    }
  });
});
