/** SQLSTATEs of a missing table or view, of a missing function, and of a missing schema (the schema option). */
const UNDEFINED_TABLE = '42P01';
const UNDEFINED_FUNCTION = '42883';
const INVALID_SCHEMA_NAME = '3F000';

export const HOW_TO_MIGRATE =
  "the cache's migrations are not applied to this database: run `npx exercise-cache migrate` (with DATABASE_URL set) " +
  "or call migrate({ databaseUrl }) from 'exercise-cache' first";

/** The cache's tables or functions are missing: its migrations were never applied to this database. */
export class CacheNotMigratedError extends Error {
  override readonly name = 'CacheNotMigratedError';

  constructor(cause: unknown) {
    // One line: what PostgreSQL said (names the missing object), then what to do.
    const reason = String((cause as Error | null)?.message ?? cause).replace(/\s+/g, ' ');
    super(`exercise-cache: ${reason}; ${HOW_TO_MIGRATE}`, { cause });
  }
}

/** The error to throw for a failed query: CacheNotMigratedError when the cache's objects are missing. */
export function notMigratedOr(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return code === UNDEFINED_TABLE || code === UNDEFINED_FUNCTION || code === INVALID_SCHEMA_NAME ? new CacheNotMigratedError(error) : error;
}
