import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';

/** CPU time spent during one run, in milliseconds, split by who spent it. */
export interface CpuUsage {
  wallMs: number;
  serverMs: number;
  /**
   * Backends connected to the bench database (found through pg_stat_activity, read from /proc),
   * plus the server's own background processes (WAL writer, checkpointer...) when the cluster
   * is the bench's own embedded one.
   */
  postgresMs: number;
  /** This process: autocannon generating the load. */
  loadGeneratorMs: number;
  /** Every other process on the machine (other engineers' test runs): the noise. */
  othersMs: number;
  /** All CPUs' capacity over the run (cores x wall time). */
  capacityMs: number;
}

const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

/** utime + stime of a process (all its threads), in ms; 0 when it is gone or unreadable. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat, in ms. */
function machineCpuMs(): { busy: number; total: number } {
  try {
    const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const n = values.map(Number);
    const idle = n[3] + (n[4] ?? 0);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) * TICK_MS, total: total * TICK_MS };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

interface Snapshot {
  at: number;
  server: number;
  backends: Map<number, number>;
  self: number;
  machine: { busy: number; total: number };
}

/**
 * Accounts the CPU of a run, so figures can be read per request, which other processes' load
 * disturbs far less than requests per second. Needs /proc and a PostgreSQL on this machine;
 * where those are missing the figures come out as 0 or NaN.
 */
export class CpuAccounting {
  constructor(
    private readonly pool: Pool,
    private readonly ownCluster: boolean,
  ) {}

  private async backendPids(): Promise<number[]> {
    const { rows } = await this.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
       WHERE (datname = current_database() OR ($1 AND datname IS NULL)) AND pid <> pg_backend_pid()`,
      [this.ownCluster],
    );
    return rows.map((r) => r.pid);
  }

  async snapshot(serverPid: number): Promise<Snapshot> {
    const pids = await this.backendPids();
    const usage = process.cpuUsage();
    return {
      at: performance.now(),
      server: processCpuMs(serverPid),
      backends: new Map(pids.map((pid) => [pid, processCpuMs(pid)])),
      self: (usage.user + usage.system) / 1000,
      machine: machineCpuMs(),
    };
  }

  /** Backends that appeared during the run count from zero (their connection began in it). */
  async since(before: Snapshot, serverPid: number): Promise<CpuUsage> {
    const after = await this.snapshot(serverPid);
    let postgres = 0;
    for (const [pid, ms] of after.backends) postgres += Math.max(0, ms - (before.backends.get(pid) ?? 0));
    const serverMs = Math.max(0, after.server - before.server);
    const loadGeneratorMs = after.self - before.self;
    const busy = after.machine.busy - before.machine.busy;
    return {
      wallMs: after.at - before.at,
      serverMs,
      postgresMs: postgres,
      loadGeneratorMs,
      othersMs: Math.max(0, busy - serverMs - postgres - loadGeneratorMs),
      capacityMs: after.machine.total - before.machine.total,
    };
  }
}
