import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { cacheKeyFor, contextKeyFor } from '../src/cache/cache-key';
import { AppConfig } from '../src/config/app-config';
import { BenchDatabase, openBenchDatabase } from './bench-database';
import { CodeSnapshot, snapshotBuilds } from './code-snapshot';
import { CpuAccounting } from './cpu-accounting';
import { summariseProfile } from './cpu-profile';
import { measureInProcess } from './in-process';
import { LoadShape, runLoad } from './load';
import { measureMaintenance } from './maintenance';
import { BenchOptions, BenchUsageError, parseOptions } from './options';
import { PRODUCT_DIST, REPOSITORY_ROOT, loadFromBuild } from './product-build';
import { PreviousBuild, PreviousDatabase, copyRows, missingInBuild, openPreviousDatabase, snapshotPreviousBuild } from './previous-build';
import { BenchResults, LoadRun, Scenario, ServerId, compareBuilds, compareWorkarounds, computeRatios, evaluateTargets, render, serviceWithout } from './report';
import { absentContext, exerciseFor, lookupPath, postedContext, seedEntries, seededContext, withIndexesRebuilt } from './seed';
import { ServerProcess } from './server-process';

/**
 * `npm run bench`: the service against a raw-pg baseline and a framework-only ceiling on one
 * PostgreSQL, in one run, so the ratios compare like with like. See options.ts for the flags.
 * Progress goes to stderr, the report to stdout and to <results>/latest.json and latest.md.
 */
const API_KEY = 'bench-key';
const AUTH = { authorization: `Bearer ${API_KEY}` };
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const resultsDir = path.resolve(options.resultsDir);
  await mkdir(resultsDir, { recursive: true });
  if (!existsSync(path.join(PRODUCT_DIST, 'main.js'))) throw new Error(`${path.join(PRODUCT_DIST, 'main.js')} is missing: run npm run build first`);
  const compareWith = options.compareWith === undefined ? undefined : path.resolve(options.compareWith);
  const missing = compareWith ? missingInBuild(compareWith) : [];
  if (missing.length > 0) throw new BenchUsageError(`--compare-with ${compareWith}: not a built checkout, missing ${missing.join(', ')} (run npm ci and npm run build there)`);

  const startedAt = new Date();
  const code = codeUnderTest();
  const notes: string[] = [];
  const servers = new Map<ServerId, ServerProcess>();
  let database: BenchDatabase | undefined;
  let pool: Pool | undefined;
  let snapshot: CodeSnapshot | undefined;
  let previous: PreviousBuild | undefined;
  let previousDatabase: PreviousDatabase | undefined;
  let previousPool: Pool | undefined;
  const cleanup = async () => {
    await snapshot?.remove();
    snapshot = undefined;
    for (const server of servers.values()) await server.stop().catch(() => undefined);
    servers.clear();
    await previous?.remove();
    previous = undefined;
    await pool?.end().catch(() => undefined);
    pool = undefined;
    await previousPool?.end().catch(() => undefined);
    previousPool = undefined;
    await previousDatabase?.drop();
    previousDatabase = undefined;
    await database?.drop();
    database = undefined;
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    snapshot = await snapshotBuilds(REPOSITORY_ROOT, resultsDir);
    if (snapshot.builtAt !== code.distBuiltAt) notes.push('dist/ was rebuilt while the bench started: the measured build may not be the commit named above');
    const CHILD_DIST = snapshot.dist;
    const CHILD_BENCH_DIST = snapshot.benchDist;
    if (compareWith) previous = await snapshotPreviousBuild(compareWith, resultsDir);
    database = await openBenchDatabase(process.env.DATABASE_URL, CHILD_DIST, log);
    log(`bench database ${database.name} on ${database.source}, PostgreSQL ${database.serverVersion}`);
    pool = new Pool({ connectionString: database.url, max: 4 });
    // The cache's own repository (of the build under test) seeds, removes the POSTed entries and
    // runs the maintenance functions: the bench does not spell the cache's tables itself.
    const { ExerciseCacheRepository } = loadFromBuild<typeof import('../src/cache/exercise-cache.repository')>(CHILD_DIST, 'cache/exercise-cache.repository');
    const { CacheStatisticsRepository } = loadFromBuild<typeof import('../src/cache/cache-statistics.repository')>(CHILD_DIST, 'cache/cache-statistics.repository');
    const { cacheSqlNames } = loadFromBuild<typeof import('../src/database/sql-names')>(CHILD_DIST, 'database/sql-names');
    const names = cacheSqlNames();
    const repository = new ExerciseCacheRepository(pool, names);
    const statistics = new CacheStatisticsRepository(pool, names);

    const started = performance.now();
    // Large seeds rebuild the indexes afterwards (minutes faster); 10k rows grow them by inserts.
    if (options.entries > 100_000) await withIndexesRebuilt(pool, names.exerciseCache, () => seedEntries(repository, options.entries));
    else await seedEntries(repository, options.entries);
    // The bench's database holds nothing but the cache: settle all of it as autovacuum would.
    await pool.query('VACUUM ANALYZE');
    const seedMs = performance.now() - started;
    log(`seeded ${options.entries} entries in ${(seedMs / 1000).toFixed(1)} s`);

    // The previous build gets its own database, migrated by its own migrations, holding the same rows.
    let previousRepository: InstanceType<typeof ExerciseCacheRepository> | undefined;
    let rowsCopied: Record<string, number> = {};
    if (previous) {
      const copyStarted = performance.now();
      previousDatabase = await openPreviousDatabase(database, previous, log);
      rowsCopied = await copyRows(database.url, previousDatabase.url);
      previousPool = new Pool({ connectionString: previousDatabase.url, max: 4 });
      const previousRepositoryClass = loadFromBuild<typeof import('../src/cache/exercise-cache.repository')>(previous.dist, 'cache/exercise-cache.repository').ExerciseCacheRepository;
      const previousNames = loadFromBuild<typeof import('../src/database/sql-names')>(previous.dist, 'database/sql-names').cacheSqlNames();
      previousRepository = new previousRepositoryClass(previousPool, previousNames);
      log(`previous build ${previous.commit}: database ${previousDatabase.name} migrated by its own migrations, rows copied ${JSON.stringify(rowsCopied)} in ${((performance.now() - copyStarted) / 1000).toFixed(1)} s`);
    }

    const hitContexts = Array.from({ length: options.distinctUrls }, (_, k) => seededContext(Math.floor((k * options.entries) / options.distinctUrls)));
    const missContexts = Array.from({ length: options.distinctUrls }, (_, k) => absentContext(k));
    // The ceiling answers from memory: it gets the seeded entries its hit runs request, read here.
    const entriesFile = path.join(resultsDir, `.hit-entries-${process.pid}.json`);
    const hitEntries = await Promise.all(hitContexts.map((c) => repository.findLiveByKey(cacheKeyFor(c))));
    await writeFile(entriesFile, JSON.stringify(hitEntries.flatMap((entry) => (entry ? [entry] : []))));

    const PROBE = () => path.join(CHILD_BENCH_DIST, 'bench', 'memory-probe.js');
    const maxEntries = Math.min(100_000_000, options.entries + 1_000_000);
    const serviceEnv = (l1: boolean, databaseUrl = database!.url): Record<string, string> => ({
      NODE_ENV: 'production',
      API_KEYS: API_KEY,
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      MIGRATE_ON_START: 'false',
      DATABASE_POOL_SIZE: String(options.poolSize),
      RATE_LIMIT_MAX: '100000000',
      MAX_ENTRIES: String(maxEntries),
      L1_ENABLED: String(l1),
    });
    const referenceEnv = { BENCH_DATABASE_URL: database.url, BENCH_POOL_SIZE: String(options.poolSize), BENCH_ENTRIES_FILE: entriesFile };
    const startService = (id: ServerId, l1: boolean, nodeFlags: string[] = [], extraEnv: Record<string, string> = {}) =>
      ServerProcess.start({ name: id, script: path.join(CHILD_DIST, 'main.js'), env: { ...serviceEnv(l1), ...extraEnv }, nodeFlags, probe: PROBE(), logFile: path.join(resultsDir, `${id}.log`), readyPath: lookupPath(missContexts[0]), headers: AUTH });

    const startPrevious = (id: 'previous-l1-on' | 'previous-l1-off') =>
      ServerProcess.start({ name: id, script: path.join(previous!.dist, 'main.js'), env: serviceEnv(id === 'previous-l1-on', previousDatabase!.url), probe: PROBE(), logFile: path.join(resultsDir, `${id}.log`), readyPath: lookupPath(missContexts[0]), headers: AUTH });

    const startReference = (id: 'baseline' | 'ceiling', nodeFlags: string[] = []) =>
      ServerProcess.start({ name: id, script: path.join(CHILD_BENCH_DIST, 'bench', `${id}-server.js`), env: referenceEnv, nodeFlags, probe: PROBE(), logFile: path.join(resultsDir, `${id}.log`), readyPath: '/' });

    log(`starting the ${4 + options.without.length + (previous ? 2 : 0)} servers, each in its own process`);
    servers.set('service-l1-on', await startService('service-l1-on', true));
    servers.set('service-l1-off', await startService('service-l1-off', false));
    servers.set('baseline', await startReference('baseline'));
    servers.set('ceiling', await startReference('ceiling'));
    for (const workaround of options.without) {
      const switches = ['-r', path.join(CHILD_BENCH_DIST, 'bench', 'workaround-switches.js')];
      const id = serviceWithout(workaround);
      servers.set(id, await startService(id, true, switches, { BENCH_WITHOUT: workaround, BENCH_PRODUCT_DIST: CHILD_DIST }));
    }
    if (previous) {
      servers.set('previous-l1-on', await startPrevious('previous-l1-on'));
      servers.set('previous-l1-off', await startPrevious('previous-l1-off'));
    }
    for (const [id, server] of servers) await sanityCheck(id, server, hitContexts[0], missContexts[0]);

    let writeSerial = 0;
    let removedUpTo = 0;
    // POSTed entries are removed after each run so every run starts from the seeded table; the
    // previous build's POSTs went to its own database.
    const isPrevious = (id: ServerId) => id.startsWith('previous');
    const removePosted = async (ids: ServerId[]) => {
      const upTo = writeSerial;
      let next = removedUpTo;
      const repositories = [...(ids.some((id) => !isPrevious(id)) ? [repository] : []), ...(previousRepository && ids.some(isPrevious) ? [previousRepository] : [])];
      const worker = async () => {
        while (next < upTo) {
          const contextKey = contextKeyFor(postedContext(next++));
          for (const target of repositories) await target.deleteByContext(contextKey);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      removedUpTo = upTo;
    };
    const shapes: Record<Scenario, LoadShape> = {
      'GET hit': { method: 'GET', headers: AUTH, expectedStatus: 200, next: () => ({ path: lookupPath(pick(hitContexts)) }) },
      'GET miss': { method: 'GET', headers: AUTH, expectedStatus: 404, next: () => ({ path: lookupPath(pick(missContexts)) }) },
      POST: {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        expectedStatus: 201,
        next: () => {
          const n = writeSerial++;
          return { path: '/exercise-cache', body: JSON.stringify({ context: postedContext(n), exercise: exerciseFor(n) }) };
        },
      },
    };
    const runs: LoadRun[] = [];
    const accounting = new CpuAccounting(pool, !process.env.DATABASE_URL);
    // The previous build's PostgreSQL backends are those of its own database.
    const previousAccounting = previousPool ? new CpuAccounting(previousPool, !process.env.DATABASE_URL) : accounting;
    const accountingFor = (id: ServerId) => (isPrevious(id) ? previousAccounting : accounting);
    const topConnections = Math.max(...options.connections);
    for (const scenario of ['GET hit', 'GET miss', 'POST'] as const) {
      const ids = [...servers.keys()].filter((id) => scenario !== 'POST' || id.startsWith('service') || isPrevious(id));
      if (options.warmupSeconds > 0) {
        for (const id of ids) await runLoad(servers.get(id)!.url, shapes[scenario], 16, options.warmupSeconds);
        if (scenario === 'POST') await removePosted(ids);
      }
      for (const connections of options.connections) {
        for (const id of ids) {
          const server = servers.get(id)!;
          if (connections === topConnections) server.startSampling();
          const before = await accountingFor(id).snapshot(server.pid);
          const result = await runLoad(server.url, shapes[scenario], connections, options.durationSeconds);
          const cpu = await accountingFor(id).since(before, server.pid);
          const memory = connections === topConnections ? server.stopSampling() : undefined;
          runs.push({ server: id, scenario, ...result, cpu, memory });
          log(
            `${scenario.padEnd(8)} c=${String(connections).padStart(3)} ${id.padEnd(14)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  ` +
              `p50 ${result.latencyMs.p50.toFixed(3)} ms  p99 ${result.latencyMs.p99.toFixed(3)} ms  ` +
              `server ${((1000 * cpu.serverMs) / Math.max(1, result.responses)).toFixed(0)} us/req  others ${((100 * cpu.othersMs) / cpu.capacityMs).toFixed(0)}% CPU  unexpected ${result.unexpected}`,
          );
          if (scenario === 'POST') await removePosted([id]);
        }
      }
    }
    const logSizes: Record<string, unknown> = {};
    for (const [id, server] of servers) {
      const code = await server.stop();
      if (code !== 0) notes.push(`${id} exited with code ${code} on SIGTERM`);
      if (id.startsWith('service') || isPrevious(id)) logSizes[id] = logSummary(server.spec.logFile);
    }
    servers.clear();

    const profiles: BenchResults['profiles'] = [];
    if (options.profile) {
      // The references are profiled too: what their time goes to is the yardstick for the service's.
      for (const id of ['service-l1-on', 'service-l1-off', 'baseline', 'ceiling'] as const) {
        const file = path.join(resultsDir, `${id}.cpuprofile`);
        await rm(file, { force: true });
        log(`profiling ${id}: GET hit at 16 connections for ${options.durationSeconds} s under --cpu-prof`);
        const flags = ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`, `--cpu-prof-name=${id}.cpuprofile`];
        const server = id.startsWith('service') ? await startService(id, id === 'service-l1-on', flags) : await startReference(id as 'baseline' | 'ceiling', flags);
        servers.set(id, server);
        if (options.warmupSeconds > 0) await runLoad(server.url, shapes['GET hit'], 16, options.warmupSeconds);
        const before = await accounting.snapshot(server.pid);
        const fromUs = Number(process.hrtime.bigint() / 1000n);
        const result = await runLoad(server.url, shapes['GET hit'], 16, options.durationSeconds);
        const toUs = Number(process.hrtime.bigint() / 1000n);
        const cpu = await accounting.since(before, server.pid);
        await server.stop();
        servers.delete(id);
        if (!existsSync(file)) {
          notes.push(`${id}: no .cpuprofile was written`);
          continue;
        }
        profiles.push({
          server: id,
          top: id.startsWith('service') ? 25 : 10,
          requestsPerSecond: result.requestsPerSecond,
          serverUsPerRequest: (1000 * cpu.serverMs) / Math.max(1, result.responses),
          othersCpuShare: cpu.othersMs / cpu.capacityMs,
          ...(await summariseProfile(file, fromUs, toUs)),
        });
      }
    }
    await rm(entriesFile, { force: true });

    log(`in-process: service.get() against a raw pg query, ${options.inProcessCalls} calls each`);
    // A failure in a later phase is reported beside the figures already measured, not instead of them.
    const inProcess = await measureInProcess(CHILD_DIST, database.url, options.poolSize, hitContexts, options.inProcessCalls).catch((error: Error) => {
      notes.push(`in-process measurement failed: ${error.message}`);
      return undefined;
    });
    const maintenance = options.skipMaintenance
      ? undefined
      : await measureMaintenance(pool, repository, statistics, options, log).catch((error: Error) => {
          notes.push(`maintenance timings failed: ${error.message}`);
          return undefined;
        });
    if (options.quick && maintenance) notes.push('--quick: maintenance timed at one tenth of the issue sizes; the targets apply to the full sizes');

    const results: BenchResults = {
      timestamp: startedAt.toISOString(),
      parameters: {
        entries: options.entries,
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        connections: options.connections,
        distinctUrls: options.distinctUrls,
        inProcessCalls: options.inProcessCalls,
        poolSize: options.poolSize,
        quick: options.quick,
        skipMaintenance: options.skipMaintenance,
        profile: options.profile,
        without: options.without,
        compareWith: compareWith ?? null,
      },
      machine: machineInfo(database.serverVersion, database.source, startedAt),
      code,
      setup: {
        seedMs: Math.round(seedMs),
        service: 'node dist/main.js (run from a copy of dist/ taken when the bench started): NODE_ENV=production, API_KEYS set (Authorization: Bearer sent), LOG_LEVEL=info to a file, helmet, validation, metrics as shipped',
        serviceMaxEntries: maxEntries,
        getHit: `${options.distinctUrls} distinct seeded contexts, one picked at random per request`,
        getMiss: `${options.distinctUrls} distinct contexts that were never stored`,
        post: 'service only: a new context per request (type bench_write, fresh topics), so every POST inserts a row; the rows are deleted after each run',
        memorySampling: `RSS from /proc/<pid>/status every 250 ms, heap from inside the child, during the ${topConnections}-connection runs`,
        serviceLogs: logSizes,
      },
      load: runs,
      ratios: computeRatios(runs, options.connections),
      workarounds: compareWorkarounds(runs),
      ...(previous
        ? {
            previous: { dir: previous.dir, commit: previous.commit, runFrom: 'a copy of its dist/ and prisma/ taken when the bench started (node_modules linked)', rowsCopied },
            buildComparison: compareBuilds(runs),
          }
        : {}),
      inProcess,
      maintenance,
      memory: {
        L1_MAX_ENTRIES: new AppConfig().L1_MAX_ENTRIES,
        L1_MAX_BYTES: new AppConfig().L1_MAX_BYTES,
        note: 'the service runs with the shipped L1 bounds (AppConfig defaults); RSS above includes V8, Nest, pino and the pg pool',
      },
      profiles,
      targets: [],
      notes,
    };
    results.targets = evaluateTargets(runs, inProcess, maintenance);

    await writeFile(path.join(resultsDir, 'latest.json'), JSON.stringify(results, null, 2));
    await writeFile(path.join(resultsDir, `run-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2));
    await writeFile(path.join(resultsDir, 'latest.md'), render(results, true));
    process.stdout.write(render(results, false));
    log(`wrote ${path.join(resultsDir, 'latest.json')} and latest.md`);
  } finally {
    await cleanup();
  }
}

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)];

/** One request of each kind before measuring: a server that answers wrongly is not measured. */
async function sanityCheck(id: ServerId, server: ServerProcess, hit: ReturnType<typeof seededContext>, miss: ReturnType<typeof absentContext>): Promise<void> {
  const hitResponse = await fetch(server.url + lookupPath(hit), { headers: AUTH });
  const body = (await hitResponse.json()) as { key?: string; exercise?: unknown };
  if (hitResponse.status !== 200 || body.key !== cacheKeyFor(hit) || !body.exercise) {
    throw new Error(`${id} answered a seeded context with ${hitResponse.status} ${JSON.stringify(body).slice(0, 200)}`);
  }
  const missResponse = await fetch(server.url + lookupPath(miss), { headers: AUTH });
  await missResponse.arrayBuffer();
  if (missResponse.status !== 404) throw new Error(`${id} answered an absent context with ${missResponse.status}`);
}

function logSummary(file: string): { file: string; bytes: number } {
  return { file: path.relative(process.cwd(), file), bytes: existsSync(file) ? statSync(file).size : 0 };
}

/** Which code was measured: the commit, how much of src/ differs from it, when dist/ was built. */
function codeUnderTest(): { commit: string; uncommittedSrcFiles: number; distBuiltAt: string } {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    uncommittedSrcFiles: git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length,
    // tsc (incremental) rewrites .tsbuildinfo on every build that changed anything.
    distBuiltAt: statSync(existsSync(path.join(PRODUCT_DIST, '.tsbuildinfo')) ? path.join(PRODUCT_DIST, '.tsbuildinfo') : path.join(PRODUCT_DIST, 'main.js')).mtime.toISOString(),
  };
}

function machineInfo(pgVersion: string, pgSource: string, startedAt: Date): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    totalMemoryMiB: Math.round(os.totalmem() / 1048576),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    postgres: pgVersion,
    database: pgSource,
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
    startedAt: startedAt.toISOString(),
  };
}

main().catch((error: unknown) => {
  if (error instanceof BenchUsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
