import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedPostgres } from '../../../src/database/embedded-postgres';
import { applyMigrations } from '../../../src/database/migrations';
import { freePort } from '../../support/free-port';

export interface OwnPostgres {
  pg: EmbeddedPostgres;
  url: string;
  /** Stops the server and removes its folder. */
  remove(): Promise<void>;
}

/** A test-owned, migrated embedded PostgreSQL that the test may stop and restart at will. */
export async function startOwnPostgres(database = 'reliability'): Promise<OwnPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ec-reliability-'));
  await chmod(dir, 0o755); // as root, PostgreSQL runs as user postgres, which must enter it
  const pg = await EmbeddedPostgres.start({ dataDir: path.join(dir, 'pg'), port: await freePort(), database });
  await applyMigrations(pg.url);
  return {
    pg,
    url: pg.url,
    remove: async () => {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export { pollUntil } from '../../support/poll';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The server's processes (postmaster and its children), for freezing it with SIGSTOP: a database
 * that accepts connections but never answers, as in a network partition or a stalled host.
 */
function clusterPids(dataDir: string): number[] {
  const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  return [postmaster, ...children];
}

export function freeze(own: OwnPostgres): () => void {
  const pids = clusterPids(own.pg.dataDir);
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  return () => {
    for (const pid of pids) process.kill(pid, 'SIGCONT');
  };
}
