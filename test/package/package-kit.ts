import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = path.resolve(__dirname, '..', '..');
/** One npm cache for every run and test file, so a second install comes from disk, not the registry. */
export const NPM_CACHE = path.join(tmpdir(), 'exercise-cache-test-npm-cache');
/** Packed tarballs, one per content of what npm packs, shared by the package spec files and runs. */
const PACK_CACHE = path.join(tmpdir(), 'exercise-cache-test-packs');

/**
 * Installing a package the way a user does takes time on a loaded machine: npm resolves the
 * tree (from the registry the first time), unpacks it and links it.
 */
export const INSTALL_TIMEOUT_MS = 600_000;

/** The versions this repository builds and tests with (package-lock), for a fixture app to install. */
export function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry) throw new Error(`${name} is not in package-lock.json`);
  return `${name}@${entry.version}`;
}

export interface PackedPackage {
  tarball: string;
}

/**
 * `npm pack` of this repository, reused while what it packs is unchanged: the tarball is kept
 * under a name derived from package.json and the size and mtime of every packed file, so the
 * package spec files (and later runs) pack once. dist/ must be built (jest's pretest builds it);
 * scripts are skipped so that packing does not rebuild.
 */
export async function packThisPackage(): Promise<PackedPackage> {
  if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first');
  const tarball = path.join(PACK_CACHE, `exercise-cache-${await packedContentHash()}.tgz`);
  if (existsSync(tarball)) return { tarball };
  const dir = await mkdtemp(path.join(tmpdir(), 'exercise-cache-pack-'));
  try {
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
    await mkdir(PACK_CACHE, { recursive: true });
    // Older tarballs describe builds that are gone.
    for (const old of await readdir(PACK_CACHE)) if (old.endsWith('.tgz')) await rm(path.join(PACK_CACHE, old), { force: true });
    // Copy then rename: another jest worker packing at the same moment sees a whole file or none.
    const partial = `${tarball}.${process.pid}.partial`;
    await copyFile(path.join(dir, filename), partial);
    await rename(partial, tarball);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { tarball };
}

async function packedContentHash(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(path.join(ROOT, 'package.json')));
  const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  for (const entry of manifest.files.filter((f) => !f.startsWith('!'))) {
    for (const file of await filesUnder(path.join(ROOT, entry))) {
      const info = await stat(file);
      hash.update(`${path.relative(ROOT, file)}\0${info.size}\0${info.mtimeMs}\n`);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

async function filesUnder(target: string): Promise<string[]> {
  if (!existsSync(target)) return [];
  if (!(await stat(target)).isDirectory()) return [target];
  const found: string[] = [];
  for (const entry of (await readdir(target)).sort()) found.push(...(await filesUnder(path.join(target, entry))));
  return found;
}

export interface TempApp {
  dir: string;
  /** Runs `node <file>` in the app folder; resolves with its output, whatever its exit code. */
  node(file: string, env?: Record<string, string>, args?: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Runs any command in the app folder (npx, tsc...), like node(). */
  exec(command: string, args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Starts `node <file>` and leaves it running: see RunningProcess. */
  start(file: string, env?: Record<string, string>): RunningProcess;
  write(file: string, text: string): Promise<void>;
  remove(): Promise<void>;
}

/**
 * The environment a child gets: PATH and HOME only, plus what the test gives. Nothing of jest's
 * own (NODE_ENV=test, JEST_WORKER_ID, NODE_OPTIONS) reaches the user's app.
 */
export function childEnv(env: Record<string, string> = {}, home = tmpdir()): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? home, ...env };
}

/** A fresh folder with a package.json, the tarball and `dependencies` installed from the registry. */
export async function createTempApp(name: string, tarball: string, dependencies: string[]): Promise<TempApp> {
  const dir = await mkdtemp(path.join(tmpdir(), `exercise-cache-${name}-`));
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }, null, 2));
  await npmInstall(dir, [tarball, ...dependencies]);
  return tempAppIn(dir);
}

/** `npm install <specs>` in dir, through the shared npm cache. */
export async function npmInstall(dir: string, specs: string[], timeout = INSTALL_TIMEOUT_MS): Promise<void> {
  await mkdir(NPM_CACHE, { recursive: true });
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '--cache', NPM_CACHE, ...specs], {
    cwd: dir,
    env: childEnv({ npm_config_cache: NPM_CACHE }, dir),
    maxBuffer: 64 * 1024 * 1024,
    timeout,
  });
}

/** The TempApp helpers over an existing folder. */
export function tempAppIn(dir: string): TempApp {
  const exec = (command: string, args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(command, args, { cwd: dir, env: childEnv(env, dir), maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  return {
    dir,
    exec,
    node: (file, env = {}, args = []) => exec(process.execPath, [file, ...args], env),
    start: (file, env = {}) => watchProcess(spawn(process.execPath, [file], { cwd: dir, env: childEnv(env, dir), stdio: ['pipe', 'pipe', 'pipe'] })),
    write: async (file, text) => {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A child that keeps running: its output as it arrives, line by line. */
export interface RunningProcess {
  child: ChildProcess;
  /** Resolves with the first stdout line that is JSON matching `test`; rejects, with all output, if the child ends first or time runs out. */
  jsonLine<T>(test: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves with a line that is exactly `line` (stdout or stderr). */
  said(line: string, timeoutMs?: number): Promise<void>;
  /** Everything the child wrote so far, stdout and stderr, for failure messages. */
  output(): string;
  /** Resolves with the whole output when the child has exited. */
  ended: Promise<string>;
  /** Sends a line to the child's stdin. */
  send(line: string): void;
  /** SIGKILL if still running, then waits for the exit. */
  kill(): Promise<void>;
}

export function watchProcess(child: ChildProcess): RunningProcess {
  let output = '';
  let exited = false;
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  // Line readers on both pipes: the child's output is read as it comes, so a full pipe never stalls it.
  for (const stream of [child.stdout!, child.stderr!]) {
    const isStdout = stream === child.stdout;
    createInterface({ input: stream }).on('line', (line) => {
      output += `${isStdout ? '' : '[stderr] '}${line}\n`;
      lines.push(line);
      notify();
    });
  }
  const ended = new Promise<string>((resolve) =>
    child.once('close', (code, signal) => {
      exited = true;
      output += `[exited: code ${code}, signal ${signal}]\n`;
      notify();
      resolve(output);
    }),
  );
  const waitFor = <T>(find: () => T | undefined, what: string, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) return done(() => resolve(found));
        if (exited) return done(() => reject(new Error(`child ${child.pid} ended before ${what}; its output:\n${output}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`child ${child.pid}: no ${what} within ${timeoutMs} ms; its output so far:\n${output}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });
  return {
    child,
    ended,
    output: () => output,
    jsonLine: <T>(test: (value: T) => boolean, timeoutMs = 120_000) =>
      waitFor(
        () => {
          for (const line of lines) {
            const value = parseJson<T>(line);
            if (value !== undefined && test(value)) return value;
          }
          return undefined;
        },
        'matching JSON line',
        timeoutMs,
      ),
    said: (line, timeoutMs = 120_000) => waitFor(() => (lines.some((l) => l.trim() === line) ? true : undefined), `line "${line}"`, timeoutMs).then(() => undefined),
    send: (line) => child.stdin!.write(`${line}\n`),
    kill: async () => {
      if (!exited) child.kill('SIGKILL');
      await ended;
    },
  };
}

function parseJson<T>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
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
  for (const line of output.trim().split('\n').reverse()) {
    const value = parseJson<T>(line);
    if (value !== undefined) return value;
  }
  throw new Error(`no JSON line in output:\n${output}`);
}
