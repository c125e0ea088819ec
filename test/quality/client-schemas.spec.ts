import { rmSync } from 'node:fs';
import { ExerciseCacheBadRequestError, createExerciseCacheClient } from '../../src/client';
import { E2e, startE2e } from '../e2e/e2e-kit';
import { CLOZE_SCHEMA, schemaDir, validCloze } from './schema-fixtures';

describe('exercise-cache/client and exercise schemas', () => {
  let e2e: E2e;
  let dir: string;
  const client = () => createExerciseCacheClient({ baseUrl: e2e.t.url! });
  const cloze = (topic: string) => ({ type: 'cloze', difficulty: 2, topics: [topic] });
  /** Returns exercises that break the schema `invalidCalls` times, then valid ones. */
  const flakyGenerator = (invalidCalls: number) => {
    let calls = 0;
    return jest.fn(async () => (++calls <= invalidCalls ? { sentence: `no blank ${calls}`, answer: 'x' } : validCloze(calls)));
  };

  beforeAll(async () => {
    dir = schemaDir({ 'cloze.schema.json': CLOZE_SCHEMA });
    e2e = await startE2e({ EXERCISE_SCHEMAS_DIR: dir });
  });
  afterAll(async () => {
    await e2e?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('set of an exercise that breaks the schema is an ExerciseCacheBadRequestError naming the pointer', async () => {
    const error = await client().set(cloze('set'), { sentence: 'The sky is ___' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCacheBadRequestError);
    expect((error as ExerciseCacheBadRequestError).body).toMatchObject({ pointer: '/answer', rule: 'required' });
  });

  it('getOrGenerate generates again while the service refuses the result, then stores the valid one', async () => {
    const generate = flakyGenerator(2);
    expect(await client().getOrGenerate(cloze('third'), generate, { generateAttempts: 3 })).toEqual(validCloze(3));
    expect(generate).toHaveBeenCalledTimes(3);
    expect((await client().get(cloze('third')))?.exercise).toEqual(validCloze(3));
  });

  it('getOrGenerate with the default 2 attempts throws the refusal after two invalid results and stores nothing', async () => {
    const generate = flakyGenerator(2);
    const error = await client().getOrGenerate(cloze('never'), generate).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCacheBadRequestError);
    expect((error as ExerciseCacheBadRequestError).body).toMatchObject({ pointer: '/sentence', rule: 'pattern' });
    expect(generate).toHaveBeenCalledTimes(2);
    expect(await client().get(cloze('never'))).toBeNull();
  });
});
