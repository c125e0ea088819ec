/** SQLSTATEs of a missing table or view, and of a missing function. */
const UNDEFINED_TABLE = '42P01';
const UNDEFINED_FUNCTION = '42883';

export const NOT_MIGRATED_MESSAGE =
  'exercise-cache: the database has no cache tables yet; run `npx exercise-cache migrate` (DATABASE_URL set) ' +
  "or call migrate({ databaseUrl }) from 'exercise-cache' once before using the cache";

/** The cache's tables or functions are missing: its migrations were never applied to this database. */
export class CacheNotMigratedError extends Error {
  override readonly name = 'CacheNotMigratedError';

  constructor(cause: unknown) {
    super(NOT_MIGRATED_MESSAGE, { cause });
  }
}

/** The error to throw for a failed query: CacheNotMigratedError when the cache's objects are missing. */
export function notMigratedOr(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return code === UNDEFINED_TABLE || code === UNDEFINED_FUNCTION ? new CacheNotMigratedError(error) : error;
}
