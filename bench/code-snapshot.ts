import { existsSync, statSync } from 'node:fs';
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';

export interface CodeSnapshot {
  /** The copy of dist/ the servers under test and the in-process run use. */
  dist: string;
  /** The copy of dist-bench/ the reference servers and the memory probe run from. */
  benchDist: string;
  /** When the copied build was made (dist/.tsbuildinfo, rewritten by every tsc build). */
  builtAt: string;
  remove(): Promise<void>;
}

const builtAt = (dist: string) => {
  const marker = existsSync(path.join(dist, '.tsbuildinfo')) ? path.join(dist, '.tsbuildinfo') : path.join(dist, 'main.js');
  return statSync(marker).mtime.toISOString();
};

/**
 * Copies dist/, dist-bench/ and prisma/ (which dist/database resolves relative to itself) of
 * `repositoryRoot` under `parent`, which must lie inside the project so the copy still resolves
 * node_modules. Other engineers' `npm test` rebuilds dist/ at any moment; everything started from
 * the copy runs the code the bench started with. A copy that overlapped a build is taken again.
 */
export async function snapshotBuilds(repositoryRoot: string, parent: string): Promise<CodeSnapshot> {
  const root = path.join(parent, `.code-${process.pid}`);
  const dist = path.join(repositoryRoot, 'dist');
  for (let attempt = 1; ; attempt++) {
    const before = builtAt(dist);
    await rm(root, { recursive: true, force: true });
    for (const folder of ['dist', 'dist-bench', 'prisma']) {
      await cp(path.join(repositoryRoot, folder), path.join(root, folder), { recursive: true });
    }
    if (builtAt(dist) === before || attempt === 5) {
      return {
        dist: path.join(root, 'dist'),
        benchDist: path.join(root, 'dist-bench'),
        builtAt: before,
        remove: () => rm(root, { recursive: true, force: true }),
      };
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
