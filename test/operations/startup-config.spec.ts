import { DIST_MAIN, ensureBuilt, runNode } from '../support/processes';

/** Runs `node dist/main.js` with only `env` (plus PATH) and collects how it ends. */
const runService = (env: Record<string, string>) => runNode(DIST_MAIN, [], env, { nodeEnv: false });

describe('node dist/main.js with bad configuration', () => {
  beforeAll(ensureBuilt, 180000);

  it.each([
    [{ MAX_ENTRIES: 'abc' }, 'exercise-cache failed to start: Invalid configuration: MAX_ENTRIES="abc": MAX_ENTRIES must be an integer number'],
    [{ CLEANUP_CRON: '0 25 * * *' }, 'exercise-cache failed to start: Invalid configuration: CLEANUP_CRON="0 25 * * *": CLEANUP_CRON must be a valid cron expression (e.g. "0 3 * * *")'],
    [
      { DATABASE_URL: 'postgres//nowhere' },
      'exercise-cache failed to start: Invalid configuration: DATABASE_URL=(value hidden): DATABASE_URL must be a URL like postgresql://user:password@host:5432/database',
    ],
  ])('%j: exits 1 with exactly one line on stderr and nothing on stdout', async (env, line) => {
    const result = await runService(env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${line}\n`);
    expect(result.stdout).toBe('');
  });
});
