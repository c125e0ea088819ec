import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DIST_CLI, DIST_MAIN, ensureBuilt, runNode } from '../support/processes';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { CLOZE_SCHEMA, schemaDir, validCloze } from './schema-fixtures';

const CLI = DIST_CLI;

describe('exercise quality in the CLI and at startup (dist)', () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runNode(CLI, args, env);
  const rowCount = async () => Number((await db.pool.query('SELECT count(*) AS n FROM exercise_cache')).rows[0].n);

  beforeAll(async () => {
    await ensureBuilt();
    db = await createTestDatabase();
    dir = schemaDir({ 'cloze.schema.json': CLOZE_SCHEMA });
    env = { DATABASE_URL: db.url, MIGRATE_ON_START: 'false', EXERCISE_SCHEMAS_DIR: dir };
  }, 180000);
  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => db.pool.query('DELETE FROM exercise_cache'));

  it('set refuses an exercise that breaks its schema with exit 2 and one line naming pointer and rule', async () => {
    const result = await cli('set', '--type', 'cloze', '--difficulty', '2', '--topics', 'sky', '--exercise', JSON.stringify({ sentence: 'The sky is ___' }));
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'error: exercise does not match the schema of type "cloze": at /answer must have required property \'answer\' (rule "required", #/required)',
    ]);
    expect(await rowCount()).toBe(0);

    const ok = await cli('set', '--type', 'cloze', '--difficulty', '2', '--topics', 'sky', '--exercise', JSON.stringify(validCloze()));
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(await rowCount()).toBe(1);
  });

  it('import rejects the lines that break their schema by line number and imports the rest', async () => {
    const file = path.join(dir, 'import.jsonl');
    const line = (exercise: unknown, topics: string[]) => JSON.stringify({ context: { type: 'cloze', difficulty: 2, topics }, exercise });
    writeFileSync(
      file,
      [
        line(validCloze(1), ['a']),
        line({ sentence: 'The sky is ___', answer: '' }, ['b']),
        line(validCloze(3), ['c']),
        line({ ...validCloze(4), distractors: ['x', 1] }, ['d']),
      ].join('\n'),
    );
    const result = await cli('import', file, '--json');
    expect(result.code).toBe(4);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ lines: 4, imported: 2 });
    expect(summary.rejected).toEqual([
      { line: 2, reason: 'exercise does not match the schema of type "cloze": at /answer must NOT have fewer than 1 characters (rule "minLength", #/properties/answer/minLength)' },
      { line: 4, reason: 'exercise does not match the schema of type "cloze": at /distractors/1 must be string (rule "type", #/properties/distractors/items/type)' },
    ]);
    expect(await rowCount()).toBe(2);
  });

  it('schemas lists the types with a schema', async () => {
    const result = await cli('schemas', '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual([{ exerciseType: 'cloze', schema: CLOZE_SCHEMA }]);
  });

  it('report, quarantine list, release and delete act on the quarantine; stats counts it', async () => {
    const stored = JSON.parse((await cli('set', '--type', 'cloze', '--difficulty', '2', '--topics', 'sea', '--exercise', JSON.stringify(validCloze()), '--json')).stdout);
    const key: string = stored.key;
    const report = await cli('report', key, '--reason', 'answer is wrong', '--reporter', 'learner-9', '--json');
    expect(report).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(report.stdout)).toEqual({ key, reports: 1, quarantined: true });
    expect((await cli('report', key, '--reason', 'again', '--reporter', 'learner-9')).stderr).toBe('error: this reporter has already reported this entry\n');
    expect((await cli('get', '--key', key)).code).toBe(3);

    const list = await cli('quarantine', 'list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ key, exerciseType: 'cloze', reports: [expect.objectContaining({ reason: 'answer is wrong', reporter: 'learner-9' })] }),
    ]);
    const stats = JSON.parse((await cli('stats', '--json')).stdout);
    expect(stats.overview).toMatchObject({ reports: 1, quarantinedEntries: 1 });
    expect(stats.byType).toEqual([expect.objectContaining({ exerciseType: 'cloze', reports: 1, quarantinedEntries: 1 })]);

    expect(await cli('quarantine', 'release', key)).toMatchObject({ code: 0, stdout: `released ${key}\n` });
    expect((await cli('get', '--key', key)).code).toBe(0);

    await cli('report', key, '--reason', 'still wrong', '--reporter', 'learner-10');
    expect(await cli('quarantine', 'delete', key)).toMatchObject({ code: 0, stdout: `deleted ${key}\n` });
    expect(await rowCount()).toBe(0);
    expect(await cli('quarantine', 'delete', key)).toMatchObject({ code: 3, stderr: `error: no quarantined entry with this key (${key})\n` });
  }, 240000); // ten CLI processes, each booting the services

  it('a broken schema file stops the service at startup with one line naming the file and the problem', async () => {
    const broken = schemaDir({ 'cloze.schema.json': CLOZE_SCHEMA, 'quiz.schema.json': { type: 'object', properties: { n: { minimum: 'one' } } } });
    try {
      const result = await runNode(DIST_MAIN, [], { DATABASE_URL: db.url, MIGRATE_ON_START: 'false', PORT: '0', EXERCISE_SCHEMAS_DIR: broken });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(`^exercise-cache failed to start: invalid exercise schema file ${path.join(broken, 'quiz.schema.json')}: not a valid JSON Schema \\(draft 2020-12\\): schema is invalid: .*minimum must be number`),
      );
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
