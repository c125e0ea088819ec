import { ServiceUnavailableException } from '@nestjs/common';

export const STORAGE_UNAVAILABLE_MESSAGE = 'cache storage unavailable';

/** Thrown by the cache when PostgreSQL cannot be reached in time; answered with a 503. */
export class StorageUnavailableError extends ServiceUnavailableException {
  constructor(readonly reason: string) {
    super({ statusCode: 503, error: 'Service Unavailable', message: STORAGE_UNAVAILABLE_MESSAGE });
  }
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', '57014', '53300', '08000', '08001', '08003', '08004', '08006',
  // Prisma: can't reach the server, server timed out, operation timed out, connection closed,
  // timed out waiting for a pooled connection.
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024',
]);
/** What @prisma/adapter-pg reports (meta.driverAdapterError.cause.kind) for a lost or refused connection. */
const UNAVAILABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const UNAVAILABLE_TEXT =
  /connection terminated|connection refused|timeout exceeded when trying to connect|query read timeout|server closed the connection|Connection terminated|the database system is (starting up|shutting down)|terminating connection|canceling statement due to statement timeout|Client has encountered a connection error|Cannot use a pool after calling end|Can't reach database server|Server has closed the connection/i;

interface ErrorLike {
  code?: unknown;
  originalCode?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown };
}

/**
 * True for errors meaning "the database is down or too slow", as opposed to a bug or bad data.
 * Looks through `cause` chains and through Prisma's `meta.driverAdapterError`, where the driver
 * adapter puts the pg error (a P2010 "raw query failed" or a P1001 carries the real reason there).
 */
export function isStorageUnavailable(error: unknown): boolean {
  if (error instanceof StorageUnavailableError) return true;
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 10; seen++) {
    const candidate = pending.shift() as ErrorLike | null | undefined;
    if (!candidate || typeof candidate !== 'object') continue;
    for (const code of [candidate.code, candidate.originalCode]) {
      if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    }
    if (typeof candidate.kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(candidate.kind)) return true;
    if (typeof candidate.message === 'string' && UNAVAILABLE_TEXT.test(candidate.message)) return true;
    pending.push(candidate.cause, candidate.meta?.driverAdapterError);
  }
  return false;
}
