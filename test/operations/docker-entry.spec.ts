import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../support/free-port';
import { pollUntil } from '../support/poll';
import { PROJECT_ROOT, ensureBuilt, query } from '../support/processes';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';

/** The JSON-array form of a Dockerfile instruction (CMD [...] or HEALTHCHECK ... CMD [...]). */
function dockerfileCommand(dockerfile: string, instruction: 'CMD' | 'HEALTHCHECK'): string[] {
  const joined = dockerfile.replace(/\\\n\s*/g, ' ');
  const line = joined.split('\n').find((l) => l.startsWith(`${instruction} `));
  if (!line) throw new Error(`no ${instruction} in the Dockerfile`);
  return JSON.parse(line.slice(line.lastIndexOf('CMD ') + 4)) as string[];
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * No Docker engine runs here, so the image's entry command and health check run as they are
 * written in the Dockerfile, outside Docker: migrate an empty database, serve, pass the health
 * check, stop cleanly on SIGTERM.
 */
describe('Dockerfile entry command', () => {
  const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  let db: TestDatabase;
  beforeAll(async () => {
    await ensureBuilt();
    db = await createEmptyDatabase();
  });
  afterAll(() => db?.drop());

  it('migrates, serves, passes the HEALTHCHECK and exits 0 on SIGTERM', async () => {
    const [entry, ...entryArgs] = dockerfileCommand(dockerfile, 'CMD');
    const [check, ...checkArgs] = dockerfileCommand(dockerfile, 'HEALTHCHECK');
    const env = {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      API_KEYS: 'docker-entry-key',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      LOG_PRETTY: 'false',
    };
    const server = spawn(entry, entryArgs, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = exitOf(server);
    try {
      await pollUntil(
        async () => {
          if (server.exitCode !== null) throw new Error(`entry command exited ${server.exitCode}: ${stderr}`);
          return (await exitOf(spawn(check, checkArgs, { env, stdio: 'ignore' }))) === 0;
        },
        Boolean,
        { what: 'the HEALTHCHECK to pass', timeoutMs: 60000 },
      );
      const migrations = await query(db.url, 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL');
      expect(migrations.length).toBeGreaterThanOrEqual(2);
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  });
});
