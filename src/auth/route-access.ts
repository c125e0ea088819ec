/**
 * What a route needs, decided from the HTTP method and the matched route path alone, so that
 * controllers need no decorators (only @Public() to open a new route):
 * - open: /health/live, /health/ready, /docs, and handlers marked @Public();
 * - monitoring: the rest of /health and /metrics; open, or Bearer METRICS_TOKEN when it is set;
 * - write: every method other than GET/HEAD/OPTIONS (stores, deletes, maintenance runs); needs
 *   a read-write API key when API_KEYS is set (reading the maintenance history is a read);
 * - read: everything else (deny by default); needs any API key when API_KEYS is set.
 */
export type RouteAccess = 'open' | 'monitoring' | 'read' | 'write';

const OPEN_PREFIXES = ['/health/live', '/health/ready', '/docs'];
const MONITORING_PREFIXES = ['/health', '/metrics'];
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `path` equals `prefix` or continues it with a new segment ("/healthz" is not under "/health"). */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || (path.startsWith(prefix) && path[prefix.length] === '/');
}

export function routeAccess(method: string, path: string): RouteAccess {
  if (OPEN_PREFIXES.some((prefix) => isUnder(path, prefix))) return 'open';
  if (MONITORING_PREFIXES.some((prefix) => isUnder(path, prefix))) return 'monitoring';
  if (!READ_METHODS.has(method.toUpperCase())) return 'write';
  return 'read';
}
