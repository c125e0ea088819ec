import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../support/free-port';
import { pollUntil } from '../../support/poll';

/** Debian's PgBouncer (what .ci/run installs), or PGBOUNCER_PATH. */
export const PGBOUNCER = [process.env.PGBOUNCER_PATH, '/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']
  .filter((candidate): candidate is string => Boolean(candidate))
  .find((candidate) => existsSync(candidate));

export interface PgBouncer {
  port: number;
  /** `databaseUrl` with its host and port replaced by PgBouncer's. */
  urlFor(databaseUrl: string): string;
  /** PgBouncer's admin console (SHOW CLIENTS, SHOW POOLS), one simple query. */
  admin(command: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/**
 * A real PgBouncer in transaction mode in front of the PostgreSQL of `targetUrl`, on a free port.
 * PgBouncer refuses to run as root, so as root it runs as the postgres user, with every file it
 * opens in a folder that user can write.
 */
export async function startPgBouncer(targetUrl: string): Promise<PgBouncer> {
  if (!PGBOUNCER) throw new Error('pgbouncer is not installed: apt-get update && apt-get install -y pgbouncer (.ci/run does this)');
  const target = new URL(targetUrl);
  const user = decodeURIComponent(target.username) || 'postgres';
  const dir = mkdtempSync(path.join(tmpdir(), 'ec-pgbouncer-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const file = (name: string) => path.join(dir, name);
  writeFileSync(file('users.txt'), `"${user}" ""\n`);
  writeFileSync(file('pgbouncer.ini'), pgbouncerIni({ host: target.hostname, port: Number(target.port || 5432), listenPort: port, dir, user }));
  for (const name of ['users.txt', 'pgbouncer.ini']) chmodSync(file(name), 0o644);
  const command = `${PGBOUNCER} -d ${file('pgbouncer.ini')}`;
  const asRoot = process.getuid?.() === 0;
  const started = asRoot
    ? spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', command], { encoding: 'utf8' })
    : spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
  if (started.status !== 0) {
    throw new Error(`pgbouncer did not start (${started.status}): ${started.stderr}${readIfExists(file('pgbouncer.log'))}`);
  }
  const url = (database: string, u = user) => `postgresql://${encodeURIComponent(u)}@127.0.0.1:${port}/${database}`;
  await pollUntil(() => canConnect(url('pgbouncer')), (ok) => ok, { timeoutMs: 10000, everyMs: 50 });

  return {
    port,
    urlFor: (databaseUrl) => {
      const parsed = new URL(databaseUrl);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    admin: async (sql) => {
      const client = new Client({ connectionString: url('pgbouncer') });
      await client.connect();
      try {
        return (await client.query(sql)).rows;
      } finally {
        await client.end();
      }
    },
    stop: async () => {
      const pid = Number(readIfExists(file('pgbouncer.pid')).trim());
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
        await pollUntil(async () => isRunning(pid), (running) => !running, { timeoutMs: 10000, everyMs: 50 });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The settings the README documents for running the service behind PgBouncer: transaction
 * pooling; the service's own startup parameters are detected and not sent, so no
 * ignore_startup_parameters is needed.
 */
function pgbouncerIni(o: { host: string; port: number; listenPort: number; dir: string; user: string }): string {
  return [
    '[databases]',
    `* = host=${o.host} port=${o.port}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${o.listenPort}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${o.dir}/users.txt`,
    `admin_users = ${o.user}`,
    'pool_mode = transaction',
    'default_pool_size = 20',
    'max_client_conn = 200',
    `logfile = ${o.dir}/pgbouncer.log`,
    `pidfile = ${o.dir}/pgbouncer.pid`,
    '',
  ].join('\n');
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
