import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const DIST_MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');

/** A temp folder the postgres user can enter (PostgreSQL runs as that user when we are root). */
export function enterableTempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ec-ops-'));
  chmodSync(dir, 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Builds dist/ when dist/main.js is missing (`npm test` builds it first through pretest). Test
 * files run in parallel, so the first one builds while the others wait on a lock folder.
 */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(DIST_MAIN)) return;
  const lock = path.join(tmpdir(), 'exercise-cache-build.lock');
  for (const deadline = Date.now() + 180000; ; ) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`another build held ${lock} for 3 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    if (existsSync(DIST_MAIN)) return;
    const build = spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}
