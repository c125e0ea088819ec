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
]);
const UNAVAILABLE_TEXT =
  /connection terminated|connection refused|timeout exceeded when trying to connect|query read timeout|server closed the connection|Connection terminated|the database system is (starting up|shutting down)|terminating connection|canceling statement due to statement timeout|Client has encountered a connection error|Cannot use a pool after calling end/i;

/** True for errors meaning "the database is down or too slow", as opposed to a bug or bad data. */
export function isStorageUnavailable(error: unknown): boolean {
  if (error instanceof StorageUnavailableError) return true;
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const candidate = e as { code?: unknown; message?: unknown; cause?: unknown; originalCode?: unknown; kind?: unknown };
    for (const code of [candidate.code, candidate.originalCode]) {
      if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    }
    if (typeof candidate.message === 'string' && UNAVAILABLE_TEXT.test(candidate.message)) return true;
    e = candidate.cause;
  }
  return false;
}
