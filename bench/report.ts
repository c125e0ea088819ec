import type { CpuUsage } from './cpu-accounting';
import type { ProfileSummary } from './cpu-profile';
import type { InProcessResult } from './in-process';
import type { LoadResult } from './load';
import type { MaintenanceResult } from './maintenance';
import type { BenchOptions } from './options';
import type { MemorySummary } from './server-process';
import { ratio, round } from './stats';
import { WORKAROUNDS, Workaround } from './workarounds';

/** The service with one workaround switched back to the plain way (`--without`), L1 on. */
export type ServiceWithout = `service-without-${Workaround}`;
export type ServerId = 'service-l1-on' | 'service-l1-off' | 'baseline' | 'ceiling' | 'previous-l1-on' | 'previous-l1-off' | ServiceWithout;
export type Scenario = 'GET hit' | 'GET miss' | 'POST';

const LABELS: Record<string, string> = {
  'service-l1-on': 'service, L1 on',
  'service-l1-off': 'service, L1 off',
  baseline: 'baseline: http + pg',
  ceiling: 'ceiling: Nest+Fastify, Map',
  'previous-l1-on': 'previous build, L1 on',
  'previous-l1-off': 'previous build, L1 off',
};
export const serverLabel = (id: ServerId): string => LABELS[id] ?? `service, L1 on, without ${id.slice('service-without-'.length)}`;
export const serviceWithout = (workaround: Workaround): ServiceWithout => `service-without-${workaround}`;

export interface LoadRun extends LoadResult {
  server: ServerId;
  scenario: Scenario;
  cpu: CpuUsage;
  memory?: MemorySummary;
}

/** Server process CPU per response, in microseconds. */
export const serverUsPerRequest = (r: LoadRun | undefined) => (r && r.responses > 0 ? (1000 * r.cpu.serverMs) / r.responses : undefined);
/** Server plus its PostgreSQL backends, per response, in microseconds. */
export const totalUsPerRequest = (r: LoadRun | undefined) => (r && r.responses > 0 ? (1000 * (r.cpu.serverMs + r.cpu.postgresMs)) / r.responses : undefined);
/** Share of the machine's CPU that processes outside the bench used during the run. */
export const othersShare = (r: LoadRun) => (r.cpu.capacityMs > 0 ? r.cpu.othersMs / r.cpu.capacityMs : NaN);

export interface BenchResults {
  timestamp: string;
  parameters: Record<string, unknown>;
  machine: Record<string, unknown>;
  code: { commit: string; uncommittedSrcFiles: number; distBuiltAt: string };
  setup: Record<string, unknown>;
  load: LoadRun[];
  ratios: Record<string, unknown>[];
  workarounds: WorkaroundComparison[];
  /** `--compare-with`: the other build and this build against it. */
  previous?: { dir: string; commit: string; runFrom: string; rowsCopied: Record<string, number> };
  buildComparison?: BuildComparison[];
  inProcess?: InProcessResult;
  maintenance?: MaintenanceResult;
  memory: Record<string, unknown>;
  profiles: (ProfileSummary & { server: ServerId; top: number; requestsPerSecond: number; serverUsPerRequest: number; othersCpuShare: number })[];
  targets: Target[];
  notes: string[];
}

export interface Target {
  target: string;
  achieved: number | null;
  unit: string;
  met: boolean | null;
}

const find = (runs: LoadRun[], server: ServerId, scenario: Scenario, connections: number) =>
  runs.find((r) => r.server === server && r.scenario === scenario && r.connections === connections);

/** One workaround's run against the service's (L1 on) run of the same scenario and connections. */
export interface WorkaroundComparison {
  workaround: Workaround;
  scenario: Scenario;
  connections: number;
  serverUsPerRequestWith: number | null;
  serverUsPerRequestWithout: number | null;
  /** Server CPU per request without the workaround over with it: above 1, the workaround pays. */
  cpuWithoutOverWith: number | null;
  requestsPerSecondWith: number;
  requestsPerSecondWithout: number;
}

export function compareWorkarounds(runs: LoadRun[]): WorkaroundComparison[] {
  return runs.flatMap((without) => {
    const workaround = (Object.keys(WORKAROUNDS) as Workaround[]).find((w) => without.server === serviceWithout(w));
    const withIt = workaround && find(runs, 'service-l1-on', without.scenario, without.connections);
    if (!workaround || !withIt) return [];
    const us = [serverUsPerRequest(withIt) ?? null, serverUsPerRequest(without) ?? null];
    return [{
      workaround,
      scenario: without.scenario,
      connections: without.connections,
      serverUsPerRequestWith: round(us[0], 1),
      serverUsPerRequestWithout: round(us[1], 1),
      cpuWithoutOverWith: round(ratio(us[1] ?? undefined, us[0] ?? undefined)),
      requestsPerSecondWith: Math.round(withIt.requestsPerSecond),
      requestsPerSecondWithout: Math.round(without.requestsPerSecond),
    }];
  });
}

/** This build's service against the previous build's (`--compare-with`), same scenario, connections and L1. */
export interface BuildComparison {
  scenario: Scenario;
  connections: number;
  l1: 'on' | 'off';
  requestsPerSecondThis: number;
  requestsPerSecondPrevious: number;
  /** Above 1: this build serves more requests per second. */
  rpsThisOverPrevious: number | null;
  serverUsPerRequestThis: number | null;
  serverUsPerRequestPrevious: number | null;
  /** Above 1: this build spends more server CPU per request (the figure the machine's noise disturbs least). */
  cpuThisOverPrevious: number | null;
}

export function compareBuilds(runs: LoadRun[]): BuildComparison[] {
  return runs.flatMap((previous) => {
    const l1 = previous.server === 'previous-l1-on' ? 'on' : previous.server === 'previous-l1-off' ? 'off' : undefined;
    const current = l1 && find(runs, `service-l1-${l1}`, previous.scenario, previous.connections);
    if (!l1 || !current) return [];
    const us = [serverUsPerRequest(current) ?? null, serverUsPerRequest(previous) ?? null];
    return [{
      scenario: previous.scenario,
      connections: previous.connections,
      l1,
      requestsPerSecondThis: Math.round(current.requestsPerSecond),
      requestsPerSecondPrevious: Math.round(previous.requestsPerSecond),
      rpsThisOverPrevious: round(ratio(current.requestsPerSecond, previous.requestsPerSecond)),
      serverUsPerRequestThis: round(us[0], 1),
      serverUsPerRequestPrevious: round(us[1], 1),
      cpuThisOverPrevious: round(ratio(us[0] ?? undefined, us[1] ?? undefined)),
    }];
  });
}

/** Every service/baseline, service/ceiling and baseline/ceiling ratio of throughput and latency. */
export function computeRatios(runs: LoadRun[], connections: number[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const scenario of ['GET hit', 'GET miss'] as const) {
    for (const c of connections) {
      const get = (s: ServerId) => find(runs, s, scenario, c);
      const [on, off, base, ceil] = [get('service-l1-on'), get('service-l1-off'), get('baseline'), get('ceiling')];
      const [prevOn, prevOff] = [get('previous-l1-on'), get('previous-l1-off')];
      const previous = prevOn || prevOff
        ? {
            rps_previous_l1on_over_baseline: round(ratio(prevOn?.requestsPerSecond, base?.requestsPerSecond)),
            rps_previous_l1off_over_baseline: round(ratio(prevOff?.requestsPerSecond, base?.requestsPerSecond)),
            server_cpu_per_request_previous_l1on_over_baseline: round(ratio(serverUsPerRequest(prevOn), serverUsPerRequest(base))),
            server_cpu_per_request_previous_l1off_over_baseline: round(ratio(serverUsPerRequest(prevOff), serverUsPerRequest(base))),
          }
        : {};
      out.push({
        scenario,
        connections: c,
        rps_l1on_over_baseline: round(ratio(on?.requestsPerSecond, base?.requestsPerSecond)),
        rps_l1off_over_baseline: round(ratio(off?.requestsPerSecond, base?.requestsPerSecond)),
        rps_l1on_share_of_ceiling: round(ratio(on?.requestsPerSecond, ceil?.requestsPerSecond)),
        rps_l1off_share_of_ceiling: round(ratio(off?.requestsPerSecond, ceil?.requestsPerSecond)),
        rps_baseline_share_of_ceiling: round(ratio(base?.requestsPerSecond, ceil?.requestsPerSecond)),
        rps_ceiling_over_baseline: round(ratio(ceil?.requestsPerSecond, base?.requestsPerSecond)),
        p50_l1on_over_baseline: round(ratio(on?.latencyMs.p50, base?.latencyMs.p50)),
        p50_l1off_over_baseline: round(ratio(off?.latencyMs.p50, base?.latencyMs.p50)),
        p99_l1on_over_baseline: round(ratio(on?.latencyMs.p99, base?.latencyMs.p99)),
        p99_l1off_over_baseline: round(ratio(off?.latencyMs.p99, base?.latencyMs.p99)),
        p50_l1on_over_ceiling: round(ratio(on?.latencyMs.p50, ceil?.latencyMs.p50)),
        p50_l1off_over_ceiling: round(ratio(off?.latencyMs.p50, ceil?.latencyMs.p50)),
        server_cpu_per_request_l1on_over_baseline: round(ratio(serverUsPerRequest(on), serverUsPerRequest(base))),
        server_cpu_per_request_l1off_over_baseline: round(ratio(serverUsPerRequest(off), serverUsPerRequest(base))),
        server_cpu_per_request_l1on_over_ceiling: round(ratio(serverUsPerRequest(on), serverUsPerRequest(ceil))),
        server_plus_pg_cpu_per_request_l1on_over_baseline: round(ratio(totalUsPerRequest(on), totalUsPerRequest(base))),
        server_plus_pg_cpu_per_request_l1off_over_baseline: round(ratio(totalUsPerRequest(off), totalUsPerRequest(base))),
        ...previous,
      });
    }
  }
  return out;
}

/** The issue's targets with what this run achieved; met is null where the run has no figure. */
export function evaluateTargets(runs: LoadRun[], inProcess: InProcessResult | undefined, maintenance: MaintenanceResult | undefined): Target[] {
  const targets: Target[] = [];
  const gate = (target: string, achieved: number | null, unit: string, ok: (v: number) => boolean) =>
    targets.push({ target, achieved: round(achieved), unit, met: achieved === null ? null : ok(achieved) });
  for (const c of [16, 64]) {
    const base = find(runs, 'baseline', 'GET hit', c)?.requestsPerSecond;
    gate(`GET-hit req/s at ${c} connections, L1 on >= 2.0x baseline`, ratio(find(runs, 'service-l1-on', 'GET hit', c)?.requestsPerSecond, base), 'x', (v) => v >= 2.0);
    gate(`GET-hit req/s at ${c} connections, L1 off >= 0.8x baseline`, ratio(find(runs, 'service-l1-off', 'GET hit', c)?.requestsPerSecond, base), 'x', (v) => v >= 0.8);
  }
  const m = inProcess?.methods;
  gate('service.get() hit p50, L1 off <= 1.5x raw pg (Pool) query p50', ratio(m?.['service.get() L1 off']?.p50, m?.['raw pg Pool prepared query']?.p50), 'x', (v) => v <= 1.5);
  gate('service.get() hit p50, L1 on <= 0.05 ms', m?.['service.get() L1 on']?.p50 ?? null, 'ms', (v) => v <= 0.05);
  const full = maintenance?.evict.activeRows === 100_000;
  gate(`evict_lru_exercises ${maintenance?.evict.activeRows ?? 100000} -> ${maintenance?.evict.keep ?? 10000} < 500 ms${full ? '' : ' (reduced size)'}`, maintenance?.evict.ms ?? null, 'ms', (v) => v < 500);
  gate(`cleanup of ${maintenance?.cleanup.expiredRows ?? 100000} expired rows < 1000 ms${full ? '' : ' (reduced size)'}`, maintenance?.cleanup.ms ?? null, 'ms', (v) => v < 1000);
  targets.push({
    target: `refresh_exercise_cache_metrics() at ${maintenance?.refresh.rows ?? 1000000} rows (reported)`,
    achieved: round(maintenance?.refresh.firstMs ?? null, 1),
    unit: 'ms',
    met: null,
  });
  return targets;
}

const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const mib = (bytes: number | null | undefined) => (bytes ? (bytes / 1048576).toFixed(1) : '-');

function table(header: string[], rows: (string | number)[][], markdown: boolean): string {
  const cells = rows.map((r) => r.map(String));
  if (markdown) {
    return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...cells.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The ratio table's columns: header, and the field of a computeRatios row it shows. */
const RATIO_COLUMNS: [string, string][] = [
  ['rps on/base', 'rps_l1on_over_baseline'],
  ['rps off/base', 'rps_l1off_over_baseline'],
  ['on/ceiling', 'rps_l1on_share_of_ceiling'],
  ['off/ceiling', 'rps_l1off_share_of_ceiling'],
  ['base/ceiling', 'rps_baseline_share_of_ceiling'],
  ['p50 on/base', 'p50_l1on_over_baseline'],
  ['p50 off/base', 'p50_l1off_over_baseline'],
  ['p99 on/base', 'p99_l1on_over_baseline'],
  ['p99 off/base', 'p99_l1off_over_baseline'],
  ['srv cpu/req on/base', 'server_cpu_per_request_l1on_over_baseline'],
  ['srv cpu/req off/base', 'server_cpu_per_request_l1off_over_baseline'],
  ['+pg on/base', 'server_plus_pg_cpu_per_request_l1on_over_baseline'],
  ['+pg off/base', 'server_plus_pg_cpu_per_request_l1off_over_baseline'],
];

/** Added when the run also measured a previous build (--compare-with). */
const PREVIOUS_BUILD_RATIO_COLUMNS: [string, string][] = [
  ['rps prev on/base', 'rps_previous_l1on_over_baseline'],
  ['rps prev off/base', 'rps_previous_l1off_over_baseline'],
  ['srv cpu/req prev on/base', 'server_cpu_per_request_previous_l1on_over_baseline'],
  ['srv cpu/req prev off/base', 'server_cpu_per_request_previous_l1off_over_baseline'],
];

/** The whole report, as plain text for the terminal or as Markdown for latest.md. */
export function render(results: BenchResults, markdown: boolean): string {
  const h = (title: string) => (markdown ? `\n## ${title}\n` : `\n== ${title} ==`);
  const out: string[] = [];
  out.push(markdown ? `# npm run bench: ${results.timestamp}` : `npm run bench: ${results.timestamp}`);
  out.push(markdown ? '' : '');
  out.push(`Machine: ${JSON.stringify(results.machine)}`);
  out.push(`Code: ${JSON.stringify(results.code)}`);
  out.push(`Parameters: ${JSON.stringify(results.parameters)}`);
  out.push(`Setup: ${JSON.stringify(results.setup)}`);

  out.push(h('HTTP load (autocannon; latency is client-side, ms)'));
  out.push(
    'srv us/req: CPU of the server process per response; pg us/req: CPU of the PostgreSQL backends of the bench database (and, on the embedded cluster, its WAL writer, checkpointer...) per response; ' +
      'others CPU: share of all cores used by processes outside the bench during the run (the noise).' + (markdown ? '\n' : ''),
  );
  out.push(
    table(
      ['scenario', 'conns', 'server', 'req/s', 'p50', 'p90', 'p99', 'max', 'responses', 'non-2xx', 'unexpected', 'errors', 'srv us/req', 'pg us/req', 'others CPU'],
      results.load.map((r) => [
        r.scenario,
        r.connections,
        serverLabel(r.server),
        r.requestsPerSecond.toFixed(0),
        fmt(r.latencyMs.p50),
        fmt(r.latencyMs.p90),
        fmt(r.latencyMs.p99),
        fmt(r.latencyMs.max, 1),
        r.responses,
        r.non2xx,
        r.unexpected,
        r.errors + r.timeouts,
        fmt(serverUsPerRequest(r), 0),
        fmt(r.responses ? (1000 * r.cpu.postgresMs) / r.responses : undefined, 0),
        `${(100 * othersShare(r)).toFixed(0)}%`,
      ]),
      markdown,
    ),
  );

  out.push(h('Ratios (same run)'));
  const ratioColumns = results.previous !== undefined ? [...RATIO_COLUMNS, ...PREVIOUS_BUILD_RATIO_COLUMNS] : RATIO_COLUMNS;
  out.push(
    table(
      ['scenario', 'conns', ...ratioColumns.map(([header]) => header)],
      results.ratios.map((r) => [r.scenario as string, r.connections as number, ...ratioColumns.map(([, field]) => fmt(r[field] as number | null, 2))]),
      markdown,
    ),
  );

  if (results.workarounds.length > 0) {
    out.push(h('Workarounds: the service (L1 on) with each one and without it (--without), same run'));
    out.push('srv us/req: CPU of the server process per response. without/with above 1: the workaround saves CPU.' + (markdown ? '\n' : ''));
    out.push(
      table(
        ['workaround', 'scenario', 'conns', 'srv us/req with', 'srv us/req without', 'without/with', 'req/s with', 'req/s without'],
        results.workarounds.map((w) => [w.workaround, w.scenario, w.connections, fmt(w.serverUsPerRequestWith, 0), fmt(w.serverUsPerRequestWithout, 0), fmt(w.cpuWithoutOverWith, 2), w.requestsPerSecondWith, w.requestsPerSecondWithout]),
        markdown,
      ),
    );
    out.push(Object.entries(WORKAROUNDS).map(([name, without]) => `- without ${name}: ${without}`).join('\n'));
  }

  if (results.inProcess) {
    out.push(h(`In-process hit latency (${results.inProcess.calls} sequential calls each, ${results.inProcess.rounds} interleaved rounds, ms)`));
    out.push(
      table(
        ['method', 'p50', 'p90', 'p99', 'mean', 'nulls'],
        Object.entries(results.inProcess.methods).map(([name, s]) => [name, fmt(s.p50, 4), fmt(s.p90, 4), fmt(s.p99, 4), fmt(s.mean, 4), s.nulls]),
        markdown,
      ),
    );
  }

  if (results.maintenance) {
    const m = results.maintenance;
    out.push(h('Maintenance (ms; table freshly seeded, VACUUM ANALYZE before timing)'));
    out.push(
      table(
        ['operation', 'rows', 'result', 'ms', 'seed ms'],
        [
          [`evict_lru_exercises(${m.evict.keep})`, m.evict.activeRows, `${m.evict.deleted} deleted`, fmt(m.evict.ms, 1), fmt(m.evict.seedMs, 0)],
          ['cleanup_expired_exercises()', `${m.cleanup.expiredRows} expired + ${m.cleanup.activeRows} active`, `${m.cleanup.deleted} deleted`, fmt(m.cleanup.ms, 1), fmt(m.cleanup.seedMs, 0)],
          ['refresh_exercise_cache_metrics() first', `${m.refresh.rows} + ${m.refresh.lookupStatsRows} stats`, `${m.refresh.viewRows} view rows`, fmt(m.refresh.firstMs, 1), fmt(m.refresh.seedMs, 0)],
          ['refresh_exercise_cache_metrics() again', m.refresh.rows, 'no change', fmt(m.refresh.secondMs, 1), '-'],
          ['evict_lru_exercises(nothing to evict)', m.evictNothingToDo.activeRows, '0 deleted', fmt(m.evictNothingToDo.ms, 1), '-'],
        ],
        markdown,
      ),
    );
  }

  out.push(h('Process memory under load (64-connection or largest runs)'));
  const memoryRuns = results.load.filter((r) => r.memory);
  out.push(
    table(
      ['scenario', 'conns', 'server', 'RSS max MiB', 'RSS mean MiB', 'heapUsed max MiB', 'heapTotal max MiB', 'samples'],
      memoryRuns.map((r) => [r.scenario, r.connections, serverLabel(r.server), mib(r.memory!.rssMaxBytes), mib(r.memory!.rssMeanBytes), mib(r.memory!.heapUsedMaxBytes), mib(r.memory!.heapTotalMaxBytes), r.memory!.samples]),
      markdown,
    ),
  );
  out.push(`Memory bounds in configuration: ${JSON.stringify(results.memory)}`);

  for (const p of results.profiles) {
    out.push(h(`CPU profile: ${serverLabel(p.server)}, GET hit, 16 connections (${p.requestsPerSecond.toFixed(0)} req/s, ${p.serverUsPerRequest.toFixed(0)} us CPU/req while profiled; others used ${(100 * p.othersCpuShare).toFixed(0)}% of the CPUs)`));
    out.push('ms is wall time between samples (it includes time the process was preempted, which lands on the frame that resumes, often writev after waking the client); samples counts ticks.');
    out.push(`${p.file}: ${p.samples} samples, ${p.busyMs.toFixed(0)} ms busy, ${p.idleMs.toFixed(0)} ms idle${p.windowApplied ? ' (measured window only)' : ' (WHOLE process: window filter matched nothing)'}`);
    out.push('Top self time:');
    const rows = (list: typeof p.topSelf) => list.slice(0, p.top).map((r) => [r.function, r.ms.toFixed(1), r.percent.toFixed(1), r.samples, r.location]);
    out.push(table(['function', 'ms', '% busy', 'samples', 'location'], rows(p.topSelf), markdown));
    out.push('Top total (inclusive) time:');
    out.push(table(['function', 'ms', '% busy', 'samples', 'location'], rows(p.topTotal), markdown));
    out.push('Self time by package:');
    const byPackage = (list: typeof p.topSelf) => list.map((r) => [r.function, r.ms.toFixed(1), r.percent.toFixed(1), r.samples]);
    out.push(table(['package', 'ms', '% busy', 'samples'], byPackage(p.selfByPackage), markdown));
    out.push('Total (inclusive) time by package: everything that ran under a frame of the package:');
    out.push(table(['package', 'ms', '% busy', 'samples'], byPackage(p.totalByPackage), markdown));
  }

  out.push(h('Targets (issue 6)'));
  out.push(
    table(
      ['target', 'achieved', 'met'],
      results.targets.map((t) => [t.target, t.achieved === null ? '-' : `${t.achieved} ${t.unit}`, t.met === null ? (t.achieved === null ? 'n/a' : 'reported') : t.met ? 'yes' : 'NO']),
      markdown,
    ),
  );
  if (results.notes.length > 0) {
    out.push(h('Notes'));
    out.push(results.notes.map((n) => `- ${n}`).join('\n'));
  }

  if (results.previous && results.buildComparison) {
    const p = results.previous;
    out.push(h(`This build (${results.code.commit}) vs ${p.commit} (${p.dir}), same run`));
    out.push(
      `The previous build served from ${p.runFrom}, on a database of its own migrated by its own migrations and holding the same rows (${Object.entries(p.rowsCopied).map(([t, n]) => `${t}: ${n}`).join(', ') || 'none'}). ` +
        'rps this/prev above 1: this build serves more; srv cpu/req this/prev above 1: this build spends more server CPU per request (the figure least disturbed by other load).' +
        (markdown ? '\n' : ''),
    );
    out.push(
      table(
        ['scenario', 'conns', 'L1', 'req/s this', 'req/s prev', 'rps this/prev', 'srv us/req this', 'srv us/req prev', 'srv cpu/req this/prev'],
        results.buildComparison.map((c) => [c.scenario, c.connections, c.l1, c.requestsPerSecondThis, c.requestsPerSecondPrevious, fmt(c.rpsThisOverPrevious, 2), fmt(c.serverUsPerRequestThis, 0), fmt(c.serverUsPerRequestPrevious, 0), fmt(c.cpuThisOverPrevious, 2)]),
        markdown,
      ),
    );
  }
  return out.join('\n') + '\n';
}
