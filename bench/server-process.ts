import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../test/support/free-port';

export interface MemorySample {
  /** From /proc/<pid>/status VmRSS (what `ps -o rss=` shows), bytes. */
  rss: number;
  /** From inside the child (memory-probe.ts), bytes; undefined until the first report. */
  heapUsed?: number;
  heapTotal?: number;
}

export interface MemorySummary {
  samples: number;
  rssMaxBytes: number;
  rssMeanBytes: number;
  heapUsedMaxBytes: number | null;
  heapTotalMaxBytes: number | null;
}

export interface ServerSpec {
  name: string;
  script: string;
  env: Record<string, string>;
  nodeFlags?: string[];
  /** memory-probe.js to preload; by default the one beside this file. */
  probe?: string;
  logFile: string;
  /** Any HTTP answer on this path means the server is up. */
  readyPath: string;
  headers?: Record<string, string>;
}

/** One server under test, in a child process of its own; its output goes to a log file. */
export class ServerProcess {
  private latestProbe?: { heapUsed: number; heapTotal: number };
  private sampler?: NodeJS.Timeout;
  private samples: MemorySample[] = [];
  private exited: Promise<number | null>;

  private constructor(
    readonly spec: ServerSpec,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.on('message', (message: { benchMemory?: { heapUsed: number; heapTotal: number } }) => {
      if (message?.benchMemory) this.latestProbe = message.benchMemory;
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(spec: ServerSpec): Promise<ServerProcess> {
    const port = await freePort();
    const log = openSync(spec.logFile, 'w');
    const child = spawn(
      process.execPath,
      [...(spec.nodeFlags ?? []), '-r', spec.probe ?? path.join(__dirname, 'memory-probe.js'), spec.script],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...spec.env, PORT: String(port), BENCH_PORT: String(port) },
        stdio: ['ignore', log, log, 'ipc'],
      },
    );
    closeSync(log);
    const server = new ServerProcess(spec, `http://127.0.0.1:${port}`, child);
    await server.waitUntilReady();
    return server;
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`${this.spec.name} exited during start: ${tail(this.spec.logFile)}`);
      }
      try {
        await fetch(this.url + this.spec.readyPath, { headers: this.spec.headers });
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`${this.spec.name} did not answer within 60 s: ${tail(this.spec.logFile)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Samples RSS (and the child's heap report) every 250 ms until stopSampling(). */
  startSampling(): void {
    this.samples = [];
    this.sampler = setInterval(() => void this.sample(), 250);
  }

  stopSampling(): MemorySummary {
    clearInterval(this.sampler);
    const rss = this.samples.map((s) => s.rss);
    const heapUsed = this.samples.flatMap((s) => (s.heapUsed === undefined ? [] : [s.heapUsed]));
    const heapTotal = this.samples.flatMap((s) => (s.heapTotal === undefined ? [] : [s.heapTotal]));
    return {
      samples: this.samples.length,
      rssMaxBytes: Math.max(0, ...rss),
      rssMeanBytes: rss.length ? rss.reduce((a, b) => a + b, 0) / rss.length : 0,
      heapUsedMaxBytes: heapUsed.length ? Math.max(...heapUsed) : null,
      heapTotalMaxBytes: heapTotal.length ? Math.max(...heapTotal) : null,
    };
  }

  private async sample(): Promise<void> {
    try {
      const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
      if (Number.isFinite(kb)) this.samples.push({ rss: kb * 1024, heapUsed: this.latestProbe?.heapUsed, heapTotal: this.latestProbe?.heapTotal });
    } catch {
      // the child is gone; the summary shows fewer samples
    }
  }

  /** SIGTERM (graceful: the service flushes and closes), SIGKILL after 20 s. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.child.exitCode;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ') || '(no output)';
  } catch {
    return '(no log)';
  }
}
