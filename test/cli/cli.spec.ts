import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { freePort } from '../support/free-port';
import { cacheKeys, clearCache, expired, insertExercises, insertLookupStats } from '../support/seed';
import { TestDatabase, createTestDatabase } from '../support/test-database';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node dist/cli/main.js ...args` as a child process, with only the environment given here. */
function cli(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env }, timeout: 120000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Errors are one line on stderr. */
const oneLine = (stderr: string) => stderr.trimEnd().split('\n');

describe('exercise-cache CLI', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let dir: string;
  const run = (...args: string[]) => cli(args, env);

  beforeAll(async () => {
    if (!existsSync(CLI)) {
      // `npm test` builds first (pretest); a bare `npx jest test/cli` on a fresh clone builds here.
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
    }
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, MIGRATE_ON_START: 'false', MAX_ENTRIES: '50' };
    dir = mkdtempSync(path.join(tmpdir(), 'ec-cli-'));
  }, 300000);

  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await clearCache(db.pool);
  });

  it('stats --json reports live and expired entries and MAX_ENTRIES', async () => {
    await insertExercises(db.pool, [{ exerciseType: 'fill' }, { exerciseType: 'fill' }, { exerciseType: 'quiz' }, expired({ exerciseType: 'quiz' })]);
    const result = await run('stats', '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const stats = JSON.parse(result.stdout);
    expect(stats.maxEntries).toBe(50);
    expect(stats.overview).toMatchObject({ totalEntries: 4, activeEntries: 3, expiredEntries: 1 });
    expect(stats.byType.map((t: { exerciseType: string }) => t.exerciseType).sort()).toEqual(['fill', 'quiz']);

    // --verbose logs on stderr only: stdout stays parseable.
    const verbose = await run('stats', '--json', '--verbose');
    expect(verbose.code).toBe(0);
    expect(JSON.parse(verbose.stdout).overview.activeEntries).toBe(3);
    expect(verbose.stderr).toContain('using PostgreSQL at');

    const text = await run('stats');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('3 live of 50 (MAX_ENTRIES, 6.0 % used), 1 expired');
  });

  it('set stores an exercise that get finds by context or key, and invalidate removes it', async () => {
    const exercise = { question: 'The sky is ___', answer: 'blue', options: ['blue', 'green'] };
    const set = await run('set', '--type', 'contextual_fill', '--difficulty', '3', '--topics', 'Colors, anatomy', '--exercise', JSON.stringify(exercise), '--ttl', '600', '--json');
    expect(set).toMatchObject({ code: 0, stderr: '' });
    const { key, expiresAt } = JSON.parse(set.stdout);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(Math.abs(new Date(expiresAt).getTime() - Date.now() - 600_000)).toBeLessThan(60_000);

    // Order, case and spacing of topics do not change the key.
    const get = await run('get', '--type', 'contextual_fill', '--difficulty', '3', '--topics', 'anatomy,colors');
    expect(get).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(get.stdout)).toEqual(exercise);
    const byKey = await run('get', '--key', key, '--json');
    expect(JSON.parse(byKey.stdout)).toMatchObject({ key, exercise, usageCount: expect.any(Number) });

    const removed = await run('invalidate', key, '--json');
    expect(removed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(removed.stdout)).toEqual({ removed: 1 });

    const miss = await run('get', '--type', 'contextual_fill', '--difficulty', '3', '--topics', 'anatomy,colors');
    expect(miss.code).toBe(3);
    expect(miss.stdout).toBe('');
    expect(oneLine(miss.stderr)).toEqual([`error: no cached exercise for this context (key ${key})`]);
    const again = await run('invalidate', key);
    expect(again.code).toBe(3);
    expect(oneLine(again.stderr)).toEqual(['error: nothing to invalidate: no entry for this key']);
  });

  it('set --file reads the exercise from a file, and invalidate by context removes every variant', async () => {
    const file = path.join(dir, 'exercise.json');
    writeFileSync(file, JSON.stringify({ prompt: 'variant' }));
    for (let i = 0; i < 2; i++) {
      const set = await run('set', '--type', 'quiz', '--difficulty', '2', '--topics', 'verbs', '--file', file, '--variants', '2');
      expect(set.code).toBe(0);
      expect(set.stdout).toMatch(/^stored [0-9a-f]{64} \(expires .+\)\n$/);
    }
    expect(await cacheKeys(db.pool)).toHaveLength(2);
    const removed = await run('invalidate', '--type', 'quiz', '--difficulty', '2', '--topics', 'verbs');
    expect(removed).toMatchObject({ code: 0, stdout: 'removed 2 entries\n', stderr: '' });
    expect(await cacheKeys(db.pool)).toHaveLength(0);
  });

  it('evict --max keeps the most recently used entries and records a manual maintenance run', async () => {
    const now = Date.now();
    const keys = await insertExercises(
      db.pool,
      [0, 1, 2, 3, 4].map((i) => ({ lastUsedAt: new Date(now - (5 - i) * 60_000) })), // key 4 is the most recent
    );
    const result = await run('evict', '--max', '2', '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({ job: 'evict', affected: 3, maxEntries: 2 });
    expect(await cacheKeys(db.pool)).toEqual([keys[3], keys[4]].sort());
    const { rows } = await db.pool.query(`SELECT status, affected, trigger FROM exercise_cache_maintenance_runs WHERE job = 'evict' ORDER BY id DESC LIMIT 1`);
    expect(rows[0]).toEqual({ status: 'ok', affected: 3, trigger: 'manual' });
  });

  it('cleanup removes expired entries only', async () => {
    const [live] = await insertExercises(db.pool, [{}, expired(), expired()]);
    const result = await run('cleanup');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^removed 2 expired entries \(\d+ ms\)\n$/);
    expect(await cacheKeys(db.pool)).toEqual([live]);
  });

  it('refresh brings the daily metrics view up to date', async () => {
    const today = new Date().toISOString().slice(0, 10);
    await insertLookupStats(db.pool, [{ day: today, exerciseType: 'refreshed_type', difficulty: 2, hits: 7, misses: 3 }]);
    const before = await db.pool.query(`SELECT 1 FROM exercise_cache_daily_metrics WHERE exercise_type = 'refreshed_type'`);
    expect(before.rowCount).toBe(0);
    const result = await run('refresh', '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({ job: 'refresh', affected: expect.any(Number) });
    const { rows } = await db.pool.query(`SELECT hits, misses, hit_rate FROM exercise_cache_daily_metrics WHERE exercise_type = 'refreshed_type'`);
    expect(rows).toEqual([{ hits: '7', misses: '3', hit_rate: '70.00' }]);
  });

  describe('export and import', () => {
    const snapshot = async () =>
      (
        await db.pool.query(
          `SELECT cache_key, context_key, variant, exercise_type, difficulty, topics, exercise_data, generation_cost,
                  extract(epoch FROM expires_at)::bigint AS expires_epoch
           FROM exercise_cache WHERE expires_at > now() ORDER BY cache_key`,
        )
      ).rows;

    async function seedThroughTheCli(): Promise<void> {
      const file = path.join(dir, 'seed.jsonl');
      const lines = [
        { context: { type: 'fill', difficulty: 1, topics: ['Colors', 'Anatomy'] }, exercise: { q: 'one', nested: { deep: [1, 2, { x: null }] } }, ttlSeconds: 3600, generationCost: 0.012 },
        { context: { type: 'fill', difficulty: 1, topics: ['anatomy', 'colors'] }, exercise: { q: 'one, second variant' }, variant: 2, ttlSeconds: 7200 },
        { context: { type: 'quiz', difficulty: 5, topics: [] }, exercise: { q: 'ünïcödé ✓', text: 'line\nbreak "quoted"' } },
      ];
      writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
      const result = await run('import', file, '--json');
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(result.stdout)).toEqual({ lines: 3, imported: 3, replaced: 0, rejected: [] });
      await insertExercises(db.pool, [expired({ exerciseType: 'gone' })]); // expired: not exported
    }

    it('export writes every live entry; importing it into an empty cache restores the same entries', async () => {
      await seedThroughTheCli();
      const original = await snapshot();
      expect(original).toHaveLength(3);
      expect(original.map((r) => r.variant).sort()).toEqual([1, 1, 2]);

      const out = path.join(dir, 'export.jsonl');
      const exported = await run('export', '--out', out, '--json');
      expect(exported).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(exported.stdout)).toEqual({ exported: 3, file: out });
      const fileLines = readFileSync(out, 'utf8').trimEnd().split('\n');
      expect(fileLines).toHaveLength(3);
      expect(existsSync(`${out}.partial`)).toBe(false);

      // To stdout: the same entries and nothing else (ttlSeconds counts down between the two).
      const toStdout = await run('export');
      expect(toStdout).toMatchObject({ code: 0, stderr: '' });
      const withoutTtl = (lines: string[]) => lines.map((line) => ({ ...JSON.parse(line), ttlSeconds: undefined }));
      expect(withoutTtl(toStdout.stdout.trimEnd().split('\n'))).toEqual(withoutTtl(fileLines));
      const ttls = fileLines.map((line) => JSON.parse(line).ttlSeconds as number).sort((a, b) => a - b);
      expect(ttls.map((ttl, i) => Math.abs(ttl - [3600, 7200, 86400][i]) < 120)).toEqual([true, true, true]);

      await clearCache(db.pool);
      const imported = await run('import', out, '--json');
      expect(imported).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(imported.stdout)).toEqual({ lines: 3, imported: 3, replaced: 0, rejected: [] });
      const restored = await snapshot();
      expect(restored.map(({ expires_epoch: _, ...row }) => row)).toEqual(original.map(({ expires_epoch: _, ...row }) => row));
      // ttlSeconds was the time left at export: the expiry moves by no more than the test's duration.
      restored.forEach((row, i) => expect(Math.abs(Number(row.expires_epoch) - Number(original[i].expires_epoch))).toBeLessThan(120));
    });

    it('importing the same file twice replaces the entries instead of duplicating them', async () => {
      await seedThroughTheCli();
      const out = path.join(dir, 'twice.jsonl');
      expect((await run('export', '--out', out)).code).toBe(0);
      const before = await snapshot();

      const second = await run('import', out);
      expect(second).toMatchObject({ code: 0, stderr: '' }); // no progress bar when stderr is not a terminal
      expect(second.stdout).toBe('imported 0, replaced 3, rejected 0 (3 lines)\n');
      const after = await snapshot();
      expect(after.map((r) => r.cache_key)).toEqual(before.map((r) => r.cache_key));
      expect(after.map((r) => r.exercise_data)).toEqual(before.map((r) => r.exercise_data));
    });

    it('reports a malformed line with its number and reason, and still imports the good lines', async () => {
      const file = path.join(dir, 'mixed.jsonl');
      writeFileSync(
        file,
        [
          JSON.stringify({ context: { type: 'fill', difficulty: 2, topics: ['a'] }, exercise: { q: 1 } }),
          '{"context": {"type": "fill", "difficulty": 2',
          JSON.stringify({ context: { type: 'fill', difficulty: 9, topics: ['a'] }, exercise: { q: 2 } }),
          '',
          JSON.stringify({ context: { type: 'Bad Type', difficulty: 2, topics: [] }, exercise: { q: 3 } }),
          JSON.stringify({ context: { type: 'quiz', difficulty: 1, topics: ['b'] }, exercise: { q: 4 }, ttlSeconds: 60 }),
          JSON.stringify({ context: { type: 'quiz', difficulty: 1, topics: ['c'] }, exercise: 'not an object' }),
        ].join('\r\n') + '\r\n',
      );
      const result = await run('import', file);
      expect(result.code).toBe(4);
      expect(result.stdout.split('\n')).toEqual([
        'imported 2, replaced 0, rejected 4 (6 lines)',
        expect.stringMatching(/^ {2}line 2: invalid JSON: /),
        '  line 3: context.difficulty must be an integer from 1 to 5',
        '  line 5: context.type must be 1..50 characters of a-z, 0-9, "_" and "-"',
        '  line 7: exercise must be a JSON object nested at most 32 levels deep',
        '',
      ]);
      expect(oneLine(result.stderr)).toEqual(['error: 4 of 6 lines rejected (the others were imported)']);
      expect((await snapshot()).map((r) => r.exercise_data)).toEqual(expect.arrayContaining([{ q: 1 }, { q: 4 }]));
      expect(await cacheKeys(db.pool)).toHaveLength(2);

      const json = await cli(['import', '-', '--json'], env, readFileSync(file, 'utf8'));
      expect(json.code).toBe(4);
      const summary = JSON.parse(json.stdout);
      expect(summary).toMatchObject({ lines: 6, imported: 0, replaced: 2 });
      expect(summary.rejected.map((r: { line: number }) => r.line)).toEqual([2, 3, 5, 7]);
    });
  });

  it.each([
    [['frobnicate'], /^error: unknown command 'frobnicate'/],
    [['stats', '--colour'], /^error: unknown option '--colour'/],
    [['evict', '--max', '-1'], /^error: option '--max <n>' argument '-1' is invalid\. must be an integer from 0 to 100000000\.$/],
    [['get', '--type', 'fill'], /^error: get needs --type and --difficulty/],
    [['get', '--type', 'fill', '--difficulty', '9'], /^error: option '--difficulty <n>' argument '9' is invalid/],
    [['get', '--key', 'abc', '--type', 'fill'], /^error: get takes either --key or/],
    [['set', '--type', 'fill', '--difficulty', '2'], /^error: set needs exactly one of --exercise <json> or --file <path>$/],
    [['set', '--type', 'fill', '--difficulty', '2', '--exercise', '{oops'], /^error: --exercise is not valid JSON: /],
    [['set', '--type', 'Not Valid', '--difficulty', '2', '--exercise', '{}'], /^error: context\.type must be 1\.\.50 characters/],
    [['invalidate', 'not-a-key'], /^error: key must be 64 lowercase hex characters$/],
    [['import'], /^error: missing required argument 'file'$/],
  ])('%j is a usage error: exit 2, one line on stderr, nothing on stdout', async (args, message) => {
    const result = await run(...args);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    const lines = oneLine(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('an unreachable database is a runtime error: exit 1 with one line on stderr', async () => {
    const nowhere = { DATABASE_URL: `postgresql://postgres@127.0.0.1:${await freePort()}/nowhere`, MIGRATE_ON_START: 'false', DATABASE_CONNECT_TIMEOUT_MS: '500' };
    const result = await cli(['stats'], nowhere);
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/^error: cache storage unavailable: \S/)]);

    const file = path.join(dir, 'one.jsonl');
    writeFileSync(file, `${JSON.stringify({ context: { type: 'fill', difficulty: 1, topics: [] }, exercise: { q: 1 } })}\n`);
    const imported = await cli(['import', file], nowhere);
    expect(imported.code).toBe(1);
    expect(oneLine(imported.stderr)).toEqual([expect.stringMatching(/^error: import stopped at line 1 \(0 entries stored before it\): cache storage unavailable: \S/)]);
  });

  it('a missing import file is a runtime error naming the file', async () => {
    const result = await run('import', path.join(dir, 'missing.jsonl'));
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/^error: cannot read .*missing\.jsonl: ENOENT/)]);
  });

  it('without DATABASE_URL starts the embedded PostgreSQL, or uses it when the service already runs it', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'ec-cli-embedded-'));
    chmodSync(home, 0o755); // PostgreSQL runs as the postgres user when we are root
    const dataDir = path.join(home, 'postgres');
    const port = await freePort();
    const embeddedEnv = { EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(port) };
    let server: EmbeddedPostgres | undefined;
    try {
      // Nothing running: the CLI starts the cluster (creating and migrating it), then stops it.
      const set = await cli(['set', '--type', 'embedded', '--difficulty', '1', '--exercise', '{"q":1}'], embeddedEnv);
      expect(set).toMatchObject({ code: 0, stderr: '' });

      // The service holds the cluster: the CLI connects to it instead of starting a second one.
      server = await EmbeddedPostgres.start({ dataDir, port, database: 'exercise_cache' });
      const stats = await cli(['stats', '--json'], embeddedEnv);
      expect(stats).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(stats.stdout).overview.activeEntries).toBe(1);
    } finally {
      await server?.stop();
      rmSync(home, { recursive: true, force: true });
    }
  }, 180000);
});
