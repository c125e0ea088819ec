import path from 'node:path';

/** The repository root: this file runs from dist-bench/bench/. */
export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');

/** What `npm run build` produces: the code the servers under test run. */
export const PRODUCT_DIST = path.join(REPOSITORY_ROOT, 'dist');

/**
 * A module of a product build (dist/ or the bench's copy of it), typed by its source. Code that
 * finds files relative to itself (the migrations read prisma/, the dashboard its assets) only runs
 * from a product build, and the in-process figures then come from the same build as the servers'.
 */
export function loadFromBuild<Module>(dist: string, modulePath: string): Module {
  return require(path.join(dist, modulePath)) as Module;
}
