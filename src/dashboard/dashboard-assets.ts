import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Asset {
  body: Buffer;
  contentType: string;
  /** Strong validator: a hash of the content, also used as ?v= in the page's URLs. */
  etag: string;
}

/** The files the page loads, by the name they are served under. */
const SOURCES: Record<string, { file: () => string; contentType: string }> = {
  'dashboard.js': { file: () => path.join(assetsDir(), 'dashboard.js'), contentType: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: () => path.join(assetsDir(), 'dashboard.css'), contentType: 'text/css; charset=utf-8' },
  // Chart.js's UMD build from node_modules: served by the service, so the page works offline.
  'chart.umd.min.js': {
    file: () => path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
    contentType: 'text/javascript; charset=utf-8',
  },
};

/**
 * `npm run build` copies src/dashboard/assets next to the compiled controller; under ts-node or
 * jest the sources are used directly. A dist built by a bare `tsc` falls back to the source tree.
 */
function assetsDir(): string {
  const candidates = [path.join(__dirname, 'assets'), path.join(__dirname, '..', '..', 'src', 'dashboard', 'assets')];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'dashboard.html')));
  if (!found) throw new Error(`dashboard assets not found in ${candidates.join(' or ')}: run npm run build`);
  return found;
}

/** Reads every asset once at boot and keeps it in memory (Chart.js is the largest). */
export function loadDashboardAssets(): { assets: Map<string, Asset>; template: string } {
  const assets = new Map<string, Asset>();
  for (const [name, source] of Object.entries(SOURCES)) {
    const body = readFileSync(source.file());
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    assets.set(name, { body, contentType: source.contentType, etag });
  }
  return { assets, template: readFileSync(path.join(assetsDir(), 'dashboard.html'), 'utf8') };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Fills {{name}} placeholders with escaped values; an unknown placeholder is a bug, so it throws. */
export function renderTemplate(template: string, values: Record<string, string | number | boolean>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`dashboard template has no value for {{${name}}}`);
    return escapeHtml(String(values[name]));
  });
}
