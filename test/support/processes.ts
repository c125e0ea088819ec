import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

const tempDirs: string[] = [];

/** A temp folder; `enterable` lets the postgres user (PostgreSQL's user under root) into it. */
export function tempDir(enterable = true): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ec-spec-'));
  if (enterable) chmodSync(dir, 0o755);
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Builds dist/ when it is missing (`npm test` builds it first through pretest). */
export function ensureBuilt(): void {
  if (!existsSync(path.join(PROJECT_ROOT, 'dist', 'main.js'))) {
    spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
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
