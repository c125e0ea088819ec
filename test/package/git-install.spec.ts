import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';
import { INSTALL_TIMEOUT_MS, ROOT, TempApp, lockedVersion, npmInstall, tempAppIn } from './package-kit';

const run = promisify(execFile);

/**
 * `npm install <git url>` as a user runs it: npm clones the repository, installs its
 * devDependencies in a scratch folder, runs `prepare` (the build, with `prisma generate` through
 * scripts/prisma-generate.js, which needs no download), packs the result and installs that. The
 * repository here is a clone of this checkout's HEAD commit (uncommitted changes are not in it).
 * Slow (a full devDependency install and a build, about two minutes), and kept in every run.
 */
describe('exercise-cache installed from a git URL (built by prepare)', () => {
  let work: string;
  let app: TempApp;
  let db: TestDatabase;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'exercise-cache-git-'));
    const repo = path.join(work, 'repo');
    const { stdout: head } = await run('git', ['rev-parse', 'HEAD'], { cwd: ROOT });
    await run('git', ['clone', '--quiet', '--no-checkout', ROOT, repo]);
    await run('git', ['checkout', '--quiet', '--detach', head.trim()], { cwd: repo });
    const dir = path.join(work, 'app');
    await mkdir(dir);
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'git-app', version: '1.0.0', private: true }, null, 2));
    // The Nest peers too, so that exercise-cache/nest can be loaded.
    await npmInstall(dir, [`git+file://${repo}`, ...['@nestjs/core', '@nestjs/common', 'rxjs', 'reflect-metadata'].map(lockedVersion)]);
    app = tempAppIn(dir);
    db = await createEmptyDatabase();
  }, INSTALL_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('has a built dist and needs no install script of its own', async () => {
    const manifest = JSON.parse(await readFile(path.join(app.dir, 'node_modules', 'exercise-cache', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(Object.keys(manifest.scripts).filter((name) => /^(pre|post)?install$/.test(name))).toEqual([]);
    const { stdout } = await app.exec('ls', ['node_modules/exercise-cache/dist', 'node_modules/exercise-cache/dist/generated/prisma']);
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'nest', 'client', 'cli', 'client.js']));
  });

  it('loads exercise-cache, exercise-cache/nest and exercise-cache/client', async () => {
    await app.write(
      'load-entries.js',
      [
        "const core = require('exercise-cache');",
        "const nest = require('exercise-cache/nest');",
        "const client = require('exercise-cache/client');",
        'console.log(JSON.stringify({ core: typeof core.createExerciseCacheDB, nest: typeof nest.ExerciseCacheModule.forRootAsync, client: typeof client.createExerciseCacheClient }));',
        '',
      ].join('\n'),
    );
    const result = await app.node('load-entries.js');
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ core: 'function', nest: 'function', client: 'function' });
  });

  it('runs the bin: npx exercise-cache --help, then migrate', async () => {
    const help = await app.exec('npx', ['exercise-cache', '--help']);
    expect(help).toMatchObject({ code: 0 }); // on failure jest prints its stdout and stderr
    expect(help.stdout).toMatch(/migrate/);
    const migrated = await app.exec('npx', ['exercise-cache', 'migrate'], { DATABASE_URL: db.url });
    expect(migrated).toMatchObject({ code: 0 });
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL");
    expect(rows[0].n).toBeGreaterThan(0);
  });
});
