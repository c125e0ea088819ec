import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  function: string;
  location: string;
  ms: number;
  /** Samples whose stack it was in (self: as the leaf); unlike ms, not stretched by preemption. */
  samples: number;
  /** Share of the busy (non-idle) time in the window. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Samples inside the measured run's time window (V8 and the bench share CLOCK_MONOTONIC). */
  windowMs: number;
  busyMs: number;
  idleMs: number;
  samples: number;
  windowApplied: boolean;
  topSelf: ProfileRow[];
  topTotal: ProfileRow[];
  selfByPackage: ProfileRow[];
  /** Samples with the package anywhere on the stack: what a layer (validation, logging...) costs in all. */
  totalByPackage: ProfileRow[];
}

/**
 * Self time (samples whose leaf is the function) and total time (samples with the function
 * anywhere on the stack) per function, from a V8 .cpuprofile, restricted to the samples taken
 * between `fromUs` and `toUs` (microseconds of process.hrtime, the clock V8 stamps samples with).
 * A function is its name, file and line: anonymous functions in one file stay apart.
 */
export async function summariseProfile(file: string, fromUs: number, toUs: number, top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  let time = profile.startTime;
  const inWindow: { node: number; us: number }[] = [];
  const all: { node: number; us: number }[] = [];
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i];
    // A sample's weight is the gap to the next one (the last sample gets the previous gap).
    const us = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i];
    all.push({ node: profile.samples[i], us });
    if (time >= fromUs && time <= toUs) inWindow.push({ node: profile.samples[i], us });
  }
  const windowApplied = inWindow.length > 0;
  const chosen = windowApplied ? inWindow : all;

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const packages = new Map<string, number>();
  const packagesTotal = new Map<string, number>();
  const counts = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string, by: number) => map.set(key, (map.get(key) ?? 0) + by);
  let busy = 0;
  let idle = 0;
  for (const { node, us } of chosen) {
    const leaf = byId.get(node)!;
    if (leaf.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const leafKey = keyOf(leaf);
    bump(self, leafKey, us);
    bump(counts, `self\u0001${leafKey}`, 1);
    const pkg = packageOf(leaf.callFrame.url, leaf.callFrame.functionName);
    bump(packages, pkg, us);
    bump(counts, `package\u0001${pkg}`, 1);
    const seen = new Set<string>();
    const seenPackages = new Set<string>();
    for (let id: number | undefined = node; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!;
      const key = keyOf(frame);
      if (key.startsWith('(root)')) continue;
      const framePackage = packageOf(frame.callFrame.url, frame.callFrame.functionName);
      if (!seenPackages.has(framePackage)) {
        seenPackages.add(framePackage);
        bump(packagesTotal, framePackage, us);
        bump(counts, `packageTotal\u0001${framePackage}`, 1);
      }
      if (seen.has(key)) continue;
      seen.add(key);
      bump(total, key, us);
      bump(counts, `total\u0001${key}`, 1);
    }
  }
  const rows = (kind: string, map: Map<string, number>, limit: number, split = true): ProfileRow[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([key, us]) => {
        const [fn, location] = split ? key.split('\u0000') : [key, ''];
        return { function: fn, location: location ?? '', ms: us / 1000, samples: counts.get(`${kind}\u0001${key}`) ?? 0, percent: busy ? (100 * us) / busy : 0 };
      });
  return {
    file,
    windowMs: (busy + idle) / 1000,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    samples: chosen.length,
    windowApplied,
    topSelf: rows('self', self, top),
    topTotal: rows('total', total, top),
    selfByPackage: rows('package', packages, 15, false),
    totalByPackage: rows('packageTotal', packagesTotal, 20, false),
  };
}

function keyOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  return url ? `${name}\u0000${shortUrl(url)}:${lineNumber + 1}` : `${name}\u0000`;
}

function shortUrl(url: string): string {
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) return file.slice(nm + '/node_modules/'.length);
  const dist = file.lastIndexOf('/dist/');
  if (dist >= 0) return file.slice(dist + 1); // the bench runs the servers from a copy of dist/
  const cwd = process.cwd() + path.sep;
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}

/** node_modules package, node: internals, the service's own code (dist/), or a V8 category. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: (core)';
  const file = url.replace(/^file:\/\//, '');
  const packages = [...file.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (packages.length > 0) return packages[packages.length - 1][1];
  const dist = /\/dist\/(.*)$/.exec(file);
  return dist ? `service: dist/${dist[1].split('/')[0].replace(/\.js$/, '')}` : file;
}
