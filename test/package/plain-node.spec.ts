import { TestDatabase, createEmptyDatabase } from '../support/test-database';
import { INSTALL_TIMEOUT_MS, lockedVersion, TempApp, createTempApp, guideUsageExample, lastJsonLine, packThisPackage } from './package-kit';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The package as a plain Node user meets it: `npm pack`, then a fresh folder with only the
 * tarball and pg installed, the seed guide's Usage Example run exactly as written (only its
 * imports point at the package), against a real PostgreSQL migrated through the package.
 */
describe('exercise-cache installed from its tarball into a plain Node app (no Nest)', () => {
  let app: TempApp;
  let db: TestDatabase;

  beforeAll(async () => {
    app = await createTempApp('plain-node', (await packThisPackage()).tarball, [lockedVersion('pg')]);
    db = await createEmptyDatabase();
    const guide = await guideUsageExample();
    // The guide's code, unchanged; its two imports point at the package and at the app's pool,
    // the mock generator is imported, and the whole runs inside an async function since it
    // ends in `return`.
    const body = guide
      .replace("import { createExerciseCacheDB } from './services/exerciseCacheDB';\n", '')
      .replace("import { pool } from './database/connection';\n", '');
    await app.write(
      'usage-example.mjs',
      [
        "import { createExerciseCacheDB } from 'exercise-cache';",
        "import { pool } from './database/connection.mjs';",
        "import { aiGenerator } from './ai-generator.mjs';",
        '',
        'export async function usageExample() {',
        body.trimEnd(),
        '}',
        '',
      ].join('\n'),
    );
    await app.write('database/connection.mjs', "import pg from 'pg';\nexport const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });\n");
    await app.write(
      'ai-generator.mjs',
      [
        '// The mock AI generator: counts its calls, returns a new exercise each time.',
        'export const aiGenerator = {',
        '  calls: 0,',
        '  async generate(context) {',
        '    this.calls += 1;',
        "    return { question: `Which ${context.topics[0]}?`, options: ['a', 'b'], answer: 'a', generation: this.calls };",
        '  },',
        '};',
        '',
      ].join('\n'),
    );
    await app.write(
      'run-usage-example.mjs',
      [
        "import { usageExample } from './usage-example.mjs';",
        "import { aiGenerator } from './ai-generator.mjs';",
        'try {',
        '  const exercise = await usageExample();',
        '  console.log(JSON.stringify({ exercise, generations: aiGenerator.calls }));',
        '} catch (error) {',
        '  console.log(JSON.stringify({ error: error.message, name: error.name }));',
        '}',
        // The guide's code never closes its cache; its LISTEN session would keep the process up.
        'process.exit(0);',
        '',
      ].join('\n'),
    );
    await app.write(
      'migrate.mjs',
      "import { migrate } from 'exercise-cache';\nconsole.log(JSON.stringify({ applied: await migrate({ databaseUrl: process.env.DATABASE_URL }) }));\n",
    );
    await app.write('concurrent-callers.mjs', await readFile(path.join(__dirname, 'fixtures', 'concurrent-callers.mjs'), 'utf8'));
  }, INSTALL_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await db?.drop();
    await app?.remove();
  });

  const env = () => ({ DATABASE_URL: db.url });

  it('fails on first use of an unmigrated database with one line saying how to migrate', async () => {
    const { stdout } = await app.node('run-usage-example.mjs', env());
    const { error, name } = lastJsonLine<{ error: string; name: string }>(stdout);
    expect(name).toBe('CacheNotMigratedError');
    expect(error).not.toContain('\n');
    expect(error).toMatch(/npx exercise-cache migrate/);
    expect(error).toMatch(/migrate\(\{ databaseUrl \}\)/);
  });

  it('migrates through migrate() from the package, and a second run applies nothing', async () => {
    const first = await app.node('migrate.mjs', env());
    expect(lastJsonLine<{ applied: string[] }>(first.stdout).applied.length).toBeGreaterThan(0);
    const second = await app.node('migrate.mjs', env());
    expect(lastJsonLine<{ applied: string[] }>(second.stdout).applied).toEqual([]);
  });

  it("runs the guide's Usage Example as written: a miss generates and stores, the next run is served from the cache", async () => {
    const first = lastJsonLine<{ exercise: Record<string, unknown>; generations: number }>((await app.node('run-usage-example.mjs', env())).stdout);
    expect(first.generations).toBe(1);
    expect(first.exercise).toMatchObject({ question: 'Which colors?', answer: 'a', generation: 1 });
    const second = lastJsonLine<{ exercise: Record<string, unknown>; generations: number }>((await app.node('run-usage-example.mjs', env())).stdout);
    expect(second.generations).toBe(0);
    expect(second.exercise).toEqual(first.exercise);
    const { rows } = await db.pool.query("SELECT exercise_type, difficulty, topics FROM exercise_cache WHERE exercise_type = 'contextual_fill'");
    expect(rows).toEqual([{ exercise_type: 'contextual_fill', difficulty: 3, topics: ['anatomy', 'colors'] }]);
  });

  it('100 concurrent getOrGenerate calls in one process generate once, without loading Nest, and close() lets the process end', async () => {
    const result = await app.node('concurrent-callers.mjs', {
      ...env(),
      CALLERS: '100',
      CONTEXT: JSON.stringify({ type: 'one_process', difficulty: 2, topics: ['fractions'] }),
    });
    expect(result).toMatchObject({ code: 0 });
    const { generations, ids, frameworkModules } = lastJsonLine<{ generations: number; ids: string[]; frameworkModules: string[] }>(result.stdout);
    expect(generations).toBe(1);
    expect(ids).toHaveLength(1);
    expect(frameworkModules).toEqual([]);
  });

  it('two processes on one database, 50 callers each started together, generate once', async () => {
    const context = { type: 'two_processes', difficulty: 4, topics: ['verbs', 'tenses'] };
    const children = [0, 1].map(() =>
      app.start('concurrent-callers.mjs', { ...env(), CALLERS: '50', CONTEXT: JSON.stringify(context), WAIT_FOR_GO: '1', GENERATION_MS: '500' }),
    );
    await Promise.all(children.map((c) => c.said('ready')));
    for (const child of children) child.send('go');
    const results = (await Promise.all(children.map((c) => c.ended))).map((out) => lastJsonLine<{ generations: number; ids: string[] }>(out));
    expect(results.reduce((sum, r) => sum + r.generations, 0)).toBe(1);
    expect(new Set(results.flatMap((r) => r.ids)).size).toBe(1);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache WHERE exercise_type = $1', [context.type]);
    expect(rows[0].n).toBe(1);
  });
});
