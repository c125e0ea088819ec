import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { pollUntil } from './poll';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const DIST_MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');
export const DIST_CLI = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

/**
 * `node <script> ...args` with only PATH, NODE_ENV=test and `env` (killed after a minute);
 * `{ nodeEnv: false }` leaves NODE_ENV unset, as a user's shell would.
 */
export function runNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  options: { nodeEnv?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', ...(options.nodeEnv === false ? {} : { NODE_ENV: 'test' }) };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: PROJECT_ROOT, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const tempDirs: string[] = [];

/** A temp folder; `enterable` lets the postgres user (PostgreSQL's user under root) into it. */
export function tempDir(enterable = true): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ec-spec-'));
  if (enterable) chmodSync(dir, 0o755);
  tempDirs.push(dir);
  return dir;
}

/** A temp folder the postgres user can enter, removed by the caller rather than by removeTempDirs(). */
export function enterableTempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ec-ops-'));
  chmodSync(dir, 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Lock folders are created atomically: true for the one caller that made it. */
function tryLock(dir: string): boolean {
  try {
    mkdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds dist/ when dist/main.js is missing (`npm test` builds it first through pretest). Test
 * files run in parallel, so the first one builds while the others wait on a lock folder.
 */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(DIST_MAIN)) return;
  const lock = path.join(tmpdir(), 'exercise-cache-build.lock');
  await pollUntil(() => tryLock(lock), Boolean, { what: `another build to release ${lock}`, timeoutMs: 180000, everyMs: 500 });
  try {
    if (existsSync(DIST_MAIN)) return;
    const build = spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}

export async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Something other than our PostgreSQL listening on 127.0.0.1. */
export async function occupyPort(): Promise<{ port: number; close(): void }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}
