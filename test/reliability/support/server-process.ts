import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../support/free-port';
import { pollUntil } from '../../support/poll';

const MAIN = path.resolve(__dirname, '..', '..', '..', 'dist', 'main.js');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The shipped server (`node dist/main.js`, as `npm start` runs it) in a child process, for what
 * only a real process shows: its logs on stdout, signals, two processes starting at once.
 * `npm test` builds dist/ first (pretest); run `npm run build` before `npx jest` on these files.
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: { waitForListen?: boolean; ownProcessGroup?: boolean } = {},
): Promise<ServerProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      HOST: '127.0.0.1',
      PORT: String(port),
      MIGRATE_ON_START: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // As a shell starts a job: the leader of its own process group, which a terminal signals whole.
    detached: options.ownProcessGroup === true,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    child,
    url,
    port,
    output: () => output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (options.waitForListen !== false) {
    const listening = () => {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before listening:\n${output}`);
      return output.includes('exercise-cache listening on');
    };
    await pollUntil(listening, Boolean, { what: 'the server to listen', timeoutMs: 60000, everyMs: 50 }).catch((error: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${error.message}\n${output}`);
    });
  }
  return server;
}
