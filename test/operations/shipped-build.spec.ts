import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { PROJECT_ROOT, ensureBuilt } from '../support/processes';

const DIST = path.join(PROJECT_ROOT, 'dist');

/** Every compiled module of dist/ whose source is in src/ (older builds may have left others). */
function builtModules(dir = DIST): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return builtModules(file);
    const source = path.join(PROJECT_ROOT, 'src', path.relative(DIST, file)).replace(/\.js$/, '.ts');
    return entry.name.endsWith('.js') && existsSync(source) ? [file] : [];
  });
}

/** `require("x")` and `require.resolve("x")` of packages (not relative paths) in compiled code. */
function requiredPackages(file: string): string[] {
  const specifiers = [...readFileSync(file, 'utf8').matchAll(/\brequire(?:\.resolve)?\(\s*["']([^"'.][^"']*)["']\s*\)/g)].map((m) => m[1]);
  return specifiers.map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2) : s.split('/').slice(0, 1)).join('/'));
}

/**
 * The package and the Docker image ship dist/ with production dependencies only (the image runs
 * `npm prune --omit=dev`), so no shipped module may need a devDependency: the bench (autocannon)
 * and test helpers live outside src/.
 */
describe('the shipped build (dist/)', () => {
  beforeAll(() => ensureBuilt());

  it('requires only Node built-ins and packages that a production install keeps', () => {
    const lock = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const keptInProduction = (name: string) => {
      const entry = lock.packages[`node_modules/${name}`];
      return entry !== undefined && entry.dev !== true;
    };
    const builtin = new Set(builtinModules);
    const offending = builtModules().flatMap((file) =>
      requiredPackages(file)
        .filter((name) => !name.startsWith('node:') && !builtin.has(name) && !keptInProduction(name))
        .map((name) => `${path.relative(PROJECT_ROOT, file)} requires ${name}`),
    );
    expect(offending).toEqual([]);
  });
});
