import { DIST_CLI, ensureBuilt, runNode } from '../support/processes';
import { expireEntry, insertExercise } from '../support/seed';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { cacheKeyFor } from '../../src/cache/cache-key';

/** `exercise-cache get --max-stale <seconds>` and `--only-if-cached` (dist, real PostgreSQL). */
describe('exercise-cache get: --max-stale and --only-if-cached', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runNode(DIST_CLI, args, env);
  const context = { type: 'stale_cli', difficulty: 2, topics: ['sky'] };
  const CONTEXT_FLAGS = ['--type', 'stale_cli', '--difficulty', '2', '--topics', 'sky'];
  const key = cacheKeyFor(context);
  const exercise = { question: 'The sky is ___', answer: 'blue' };

  beforeAll(async () => {
    await ensureBuilt();
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, MIGRATE_ON_START: 'false' };
  }, 180000);
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await db.pool.query('DELETE FROM exercise_cache');
    await insertExercise(db.pool, { cacheKey: key, exerciseType: 'stale_cli', difficulty: 2, topics: ['sky'], exerciseData: exercise });
    await expireEntry(db.pool, key, 120);
  });

  it('serves an entry expired within --max-stale, marked stale', async () => {
    const human = await cli('get', ...CONTEXT_FLAGS, '--max-stale', '300');
    expect(human.code).toBe(0);
    expect(JSON.parse(human.stdout)).toEqual(exercise);
    expect(human.stderr).toMatch(/^note: stale answer: expired \S+Z\n$/);
    const json = await cli('get', ...CONTEXT_FLAGS, '--max-stale', '300', '--json');
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toMatchObject({ key, exercise, stale: true });
  });

  it('is a miss (exit 3, the usual message) for an entry expired longer ago than --max-stale, and without it', async () => {
    const miss = `error: no cached exercise for this context (key ${key})\n`;
    for (const args of [['--max-stale', '60'], [], ['--only-if-cached']]) {
      const result = await cli('get', ...CONTEXT_FLAGS, ...args);
      expect({ args, code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ args, code: 3, stdout: '', stderr: miss });
    }
  });

  it('--only-if-cached with --max-stale answers the stale entry; never writes', async () => {
    const result = await cli('get', ...CONTEXT_FLAGS, '--max-stale', '300', '--only-if-cached', '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({ key, stale: true });
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache');
    expect(rows[0].n).toBe(1);
  });

  it('refuses a bad --max-stale, and --max-stale with --key, with exit 2 naming it', async () => {
    for (const [args, message] of [
      [['--max-stale', '-1'], /^error: option '--max-stale <seconds>' argument '-1' is invalid/],
      [['--max-stale', 'soon'], /^error: option '--max-stale <seconds>' argument 'soon' is invalid/],
    ] as const) {
      const result = await cli('get', ...CONTEXT_FLAGS, ...args);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
    }
    const byKey = await cli('get', '--key', key, '--max-stale', '300');
    expect({ code: byKey.code, stderr: byKey.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/^error: --max-stale needs a context/) });
  });
});
