import { existsSync, statSync } from 'node:fs';
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';

export interface CodeSnapshot {
  /** The copy of dist/ the server children run from. */
  dist: string;
  /** When the copied build was made (dist/.tsbuildinfo, rewritten by every tsc build). */
  builtAt: string;
  remove(): Promise<void>;
}

const builtAt = (dist: string) => {
  const marker = existsSync(path.join(dist, '.tsbuildinfo')) ? path.join(dist, '.tsbuildinfo') : path.join(dist, 'main.js');
  return statSync(marker).mtime.toISOString();
};

/**
 * Copies dist/ (and prisma/, which dist/database resolves relative to itself) under `parent`,
 * which must lie inside the project so the copy still resolves node_modules. Other engineers'
 * `npm test` rebuilds dist/ at any moment; children started from the copy all run the code the
 * bench started with. A copy that overlapped a build is taken again.
 */
export async function snapshotDist(dist: string, parent: string): Promise<CodeSnapshot> {
  const root = path.join(parent, `.code-${process.pid}`);
  for (let attempt = 1; ; attempt++) {
    const before = builtAt(dist);
    await rm(root, { recursive: true, force: true });
    await cp(dist, path.join(root, 'dist'), { recursive: true });
    await cp(path.resolve(dist, '..', 'prisma'), path.join(root, 'prisma'), { recursive: true });
    if (builtAt(dist) === before || attempt === 5) {
      return { dist: path.join(root, 'dist'), builtAt: before, remove: () => rm(root, { recursive: true, force: true }) };
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
