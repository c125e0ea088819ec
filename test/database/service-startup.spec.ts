import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../support/free-port';
import { pollUntil } from '../support/poll';
import { PROJECT_ROOT as ROOT, ensureBuilt, isAlive, occupyPort, removeTempDirs, tempDir } from '../support/processes';

const run = promisify(execFile);

/** The environment of `npm start` with DATABASE_URL unset. */
function serviceEnv(dataDir: string, port: number, pgPort: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EMBEDDED_PG_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_PRETTY: 'false',
    // what is tested is a clean exit, not its speed: a loaded machine may need more than the default 10 s
    SHUTDOWN_TIMEOUT_MS: '60000',
  };
  delete env.DATABASE_URL;
  return env;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  removeTempDirs();
});

describe('node dist/main.js with DATABASE_URL unset', () => {
  let dataDir: string;
  let service: ChildProcess;
  let stdout = '';
  let httpPort: number;
  let postgresPid: number;

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = path.join(tempDir(), 'pg');
    httpPort = await freePort();
    service = spawnService(httpPort, await freePort());
    service.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    service.stderr!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    await pollUntil(
      async () => {
        if (service.exitCode !== null) throw new Error(`service exited ${service.exitCode}: ${stdout}`);
        return (await getDocs().catch(() => undefined)) === 200;
      },
      Boolean,
      { what: 'GET /docs-json to answer 200', timeoutMs: 60000 },
    );
    postgresPid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }, 120000);

  /** GET /docs-json; the body is read so the keep-alive connection is left idle, not mid-response. */
  async function getDocs(): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${httpPort}/docs-json`);
    await response.arrayBuffer();
    return response.status;
  }

  function spawnService(port: number, pgPort: number): ChildProcess {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], { cwd: ROOT, env: serviceEnv(dataDir, port, pgPort), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return child;
  }

  it('serves /docs-json and logs which database it uses', () => {
    const messages = stdout.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line).msg as string];
      } catch {
        return [];
      }
    });
    expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^DATABASE_URL is unset: using embedded PostgreSQL on 127\\.0\\.0\\.1:\\d+, data in ${dataDir}$`)));
    expect(isAlive(postgresPid)).toBe(true);
  });

  it('makes a second instance on the same EMBEDDED_PG_DIR exit 1 with one clear line on stderr', async () => {
    const second = spawnService(await freePort(), await freePort());
    let stderr = '';
    second.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));

    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^exercise-cache failed to start: the embedded PostgreSQL in ${dataDir} is already used by another exercise-cache process \\(pid ${service.pid}\\)`)),
    ]);
    expect(await getDocs()).toBe(200);
  });

  it('stops its PostgreSQL when the boot fails after the database started (HTTP port taken)', async () => {
    const blocker = await occupyPort();
    const failingDir = path.join(tempDir(), 'pg');
    try {
      const env = serviceEnv(failingDir, blocker.port, await freePort());
      const failure = await run(process.execPath, [path.join(ROOT, 'dist', 'main.js')], { cwd: ROOT, env }).catch((e: { code: number; stderr: string }) => e);

      expect(failure).toMatchObject({ code: 1 });
      expect((failure as { stderr: string }).stderr.trim().split('\n')).toEqual([expect.stringMatching(/^exercise-cache failed to start: .*EADDRINUSE/)]);
      // a clean PostgreSQL shutdown removes postmaster.pid
      await pollUntil(() => !existsSync(path.join(failingDir, 'postmaster.pid')), Boolean, { what: 'the orphaned PostgreSQL to stop', timeoutMs: 60000 });
    } finally {
      blocker.close();
    }
  }, 90000);

  it('exits 0 on SIGTERM and stops its PostgreSQL', async () => {
    const exited = new Promise<number | null>((resolve) => service.once('exit', resolve));
    service.kill('SIGTERM');

    const code = await exited;
    if (code !== 0) {
      const postgresLog = readFileSync(`${dataDir}.log`, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new Error(`exit code ${code}; last output:\n${stdout.trim().split('\n').slice(-8).join('\n')}\npostgres:\n${postgresLog}`);
    }
    expect(isAlive(postgresPid)).toBe(false);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  }, 90000);
});
