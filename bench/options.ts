import { WORKAROUNDS, Workaround, isWorkaround } from './workarounds';

/** Command-line options of `npm run bench -- [options]`. */
export interface BenchOptions {
  entries: number;
  /** Seconds of each measured autocannon run. */
  durationSeconds: number;
  /** Seconds of load before the measured runs of each (server, scenario). */
  warmupSeconds: number;
  connections: number[];
  /** Sequential calls per method in the in-process comparison. */
  inProcessCalls: number;
  /** Distinct contexts the GET-hit and GET-miss runs rotate over. */
  distinctUrls: number;
  poolSize: number;
  quick: boolean;
  skipMaintenance: boolean;
  /** Rows for the maintenance timings: evict from evictRows to evictKeep, cleanup, refresh. */
  evictRows: number;
  evictKeep: number;
  cleanupRows: number;
  refreshRows: number;
  profile: boolean;
  /** Workarounds to switch off, each in a service server of its own beside the usual ones. */
  without: Workaround[];
  /** Another built checkout of this repository, measured beside this build in the same run. */
  compareWith?: string;
  resultsDir: string;
}

export const USAGE = `npm run bench -- [options]

  --entries N          entries seeded for the HTTP and in-process runs (default 10000; 100000, 1000000 work)
  --duration S         seconds per measured autocannon run (default 5)
  --warmup S           seconds of warm-up load per server and scenario (default 3)
  --connections LIST   comma-separated connection counts (default 1,16,64)
  --calls N            sequential calls per method in the in-process comparison (default 5000)
  --pool N             DATABASE_POOL_SIZE of every server (default 10)
  --quick              smoke check: 1 s runs, 1 s warm-up, 1000 in-process calls, maintenance at 1/10 size
  --skip-maintenance   skip the eviction, cleanup and metrics-refresh timings
  --profile            also run the service (L1 on and L1 off) under --cpu-prof for one 16-connection
                       GET-hit run and summarise the top self-time functions
  --without LIST       also run the service (L1 on) with each named workaround switched back to the
                       plain Nest or library way, in a server of its own, and compare server CPU per
                       request: ${Object.keys(WORKAROUNDS).join(', ')}, or all
  --compare-with DIR   also run the service of another built checkout of this repository (its
                       dist/main.js, on its own database migrated by its own migrations and holding
                       the same rows), L1 on and L1 off, and compare it with this build per scenario
  --results DIR        where latest.json, latest.md, logs and profiles go (default bench/results)

Uses DATABASE_URL when set (creating and dropping a database bench_<pid> there), else an embedded
PostgreSQL in a temporary folder. Never part of npm test; it prints and never fails on a figure.`;

export class BenchUsageError extends Error {}

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const options: BenchOptions = {
    entries: 10000,
    durationSeconds: quick ? 1 : 5,
    warmupSeconds: quick ? 1 : 3,
    connections: [1, 16, 64],
    inProcessCalls: quick ? 1000 : 5000,
    distinctUrls: 1000,
    poolSize: 10,
    quick,
    skipMaintenance: false,
    evictRows: quick ? 10_000 : 100_000,
    evictKeep: quick ? 1_000 : 10_000,
    cleanupRows: quick ? 10_000 : 100_000,
    refreshRows: quick ? 100_000 : 1_000_000,
    profile: false,
    without: [],
    resultsDir: 'bench/results',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new BenchUsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--entries':
        options.entries = positiveInt(flag, value(), 10_000_000);
        break;
      case '--duration':
        options.durationSeconds = positiveNumber(flag, value());
        break;
      case '--warmup':
        options.warmupSeconds = Number(value());
        if (!(options.warmupSeconds >= 0)) throw new BenchUsageError('--warmup must be a number of seconds >= 0');
        break;
      case '--connections':
        options.connections = value().split(',').map((c) => positiveInt(flag, c.trim(), 10_000));
        break;
      case '--calls':
        options.inProcessCalls = positiveInt(flag, value(), 10_000_000);
        break;
      case '--pool':
        options.poolSize = positiveInt(flag, value(), 200);
        break;
      case '--without':
        options.without = workaroundList(value());
        break;
      case '--compare-with':
        options.compareWith = value();
        break;
      case '--results':
        options.resultsDir = value();
        break;
      case '--quick':
        break;
      case '--skip-maintenance':
        options.skipMaintenance = true;
        break;
      case '--profile':
        options.profile = true;
        break;
      case '--help':
      case '-h':
        throw new BenchUsageError(USAGE);
      default:
        throw new BenchUsageError(`unknown option ${flag}\n\n${USAGE}`);
    }
  }
  options.distinctUrls = Math.min(options.distinctUrls, options.entries);
  return options;
}

function workaroundList(text: string): Workaround[] {
  const names = text === 'all' ? Object.keys(WORKAROUNDS) : text.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !isWorkaround(name));
  if (unknown.length > 0) throw new BenchUsageError(`--without: unknown workaround ${unknown.join(', ')}; known: ${Object.keys(WORKAROUNDS).join(', ')}, all`);
  return [...new Set(names)] as Workaround[];
}

function positiveInt(flag: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new BenchUsageError(`${flag} must be an integer from 1 to ${max}, got "${text}"`);
  return n;
}

function positiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw new BenchUsageError(`${flag} must be a positive number, got "${text}"`);
  return n;
}
