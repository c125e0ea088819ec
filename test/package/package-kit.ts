import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
/** One npm cache for every run and test file, so a second install comes from disk, not the registry. */
const NPM_CACHE = path.join(tmpdir(), 'exercise-cache-test-npm-cache');

/**
 * Installing a package the way a user does takes time on a loaded machine: npm resolves the
 * tree (from the registry the first time), unpacks it and links it.
 */
export const INSTALL_TIMEOUT_MS = 600_000;

export interface PackedPackage {
  tarball: string;
  dir: string;
  remove(): Promise<void>;
}

/**
 * `npm pack` of this repository into a temporary folder. dist/ must be built (jest's pretest
 * builds it); scripts are skipped so that packing does not rebuild.
 */
export async function packThisPackage(): Promise<PackedPackage> {
  if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first');
  const dir = await mkdtemp(path.join(tmpdir(), 'exercise-cache-pack-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  return { tarball: path.join(dir, filename), dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface TempApp {
  dir: string;
  /** Runs `node <file>` in the app folder; resolves with its output, whatever its exit code. */
  node(file: string, env?: Record<string, string>, args?: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  write(file: string, text: string): Promise<void>;
  remove(): Promise<void>;
}

/** A fresh folder with a package.json, the tarball and `dependencies` installed from the registry. */
export async function createTempApp(name: string, tarball: string, dependencies: string[]): Promise<TempApp> {
  const dir = await mkdtemp(path.join(tmpdir(), `exercise-cache-${name}-`));
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }, null, 2));
  await mkdir(NPM_CACHE, { recursive: true });
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '--cache', NPM_CACHE, tarball, ...dependencies],
    { cwd: dir, maxBuffer: 64 * 1024 * 1024, timeout: INSTALL_TIMEOUT_MS },
  );
  return {
    dir,
    node: (file, env = {}, args = []) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          [file, ...args],
          { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
          (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      }),
    write: async (file, text) => {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The seed guide's "Usage Example", exactly as written there. */
export function guideUsageExample(): Promise<string> {
  return readFile(path.join(__dirname, 'fixtures', 'guide-usage-example.txt'), 'utf8');
}

/** Every package folder npm installed (top level), e.g. to show that no Nest package was needed. */
export async function installedPackages(appDir: string): Promise<string[]> {
  const root = path.join(appDir, 'node_modules');
  const names: string[] = [];
  for (const entry of await readdir(root)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) names.push(...(await readdir(path.join(root, entry))).map((n) => `${entry}/${n}`));
    else names.push(entry);
  }
  return names;
}

/** The last line of output that parses as JSON (scripts print their result as one JSON line). */
export function lastJsonLine<T>(output: string): T {
  const lines = output.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      return JSON.parse(line) as T;
    } catch {
      // a log line
    }
  }
  throw new Error(`no JSON line in output:\n${output}`);
}
