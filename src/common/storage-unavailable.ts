// Framework-free: the cache core (src/cache) uses this outside Nest too.

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH',
  // Statement timeout; a database that does not accept connections (ALLOW_CONNECTIONS false);
  // a read-only transaction, as on a standby after a failover.
  '57014', '55000', '25006',
  // Prisma: can't reach the server, server timed out, operation timed out, connection closed,
  // timed out waiting for a pooled connection.
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024',
]);
/**
 * Whole SQLSTATE classes: 08 connection exceptions, 53 insufficient resources (too many
 * connections, out of memory, disk full), 57P0x the server ending or refusing the session
 * (admin or crash shutdown, cannot connect now, database dropped, idle session timeout).
 */
const UNAVAILABLE_CODE_CLASSES = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[0-9A-Z])$/;
/** What @prisma/adapter-pg reports (meta.driverAdapterError.cause.kind) for a lost or refused connection. */
const UNAVAILABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const UNAVAILABLE_TEXT =
  /connection terminated|connection refused|timeout exceeded when trying to connect|query read timeout|server closed the connection|Connection terminated|the database system is (starting up|shutting down)|terminating connection|canceling statement due to statement timeout|Client has encountered a connection error|Cannot use a pool after calling end|Can't reach database server|Server has closed the connection|is not currently accepting connections|read-only transaction/i;

interface ErrorLike {
  code?: unknown;
  originalCode?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown };
}

/**
 * True for errors meaning "the database is down, too slow or refusing service" (no connections
 * allowed, read-only, out of resources), as opposed to a bug or bad data.
 * Looks through `cause` chains and through Prisma's `meta.driverAdapterError`, where the driver
 * adapter puts the pg error (a P2010 "raw query failed" or a P1001 carries the real reason there).
 */
export function isStorageUnavailable(error: unknown): boolean {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 10; seen++) {
    const candidate = pending.shift() as ErrorLike | null | undefined;
    if (!candidate || typeof candidate !== 'object') continue;
    for (const code of [candidate.code, candidate.originalCode]) {
      if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_CODE_CLASSES.test(code))) return true;
    }
    if (typeof candidate.kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(candidate.kind)) return true;
    if (typeof candidate.message === 'string' && UNAVAILABLE_TEXT.test(candidate.message)) return true;
    pending.push(candidate.cause, candidate.meta?.driverAdapterError);
  }
  return false;
}
