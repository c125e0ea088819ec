/** The PostgreSQL schema that holds every object of the cache and its migration records. */
export const DEFAULT_SCHEMA = 'public';

/**
 * Lower-case letters, digits and "_", starting with a letter or "_", at most 63 bytes (PostgreSQL
 * truncates longer names), not pg_* (reserved for the system). Such a name never needs escaping,
 * but it is still quoted wherever it is used.
 */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function schemaNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || !SCHEMA_NAME.test(name)) {
    return 'must be 1..63 characters of a-z, 0-9 and "_", starting with a letter or "_"';
  }
  if (name.startsWith('pg_')) return 'must not start with "pg_" (reserved for PostgreSQL)';
  return null;
}

/** Returns the name when it is a valid schema name, otherwise throws naming the problem. */
export function assertSchemaName(name: unknown, setting = 'schema'): string {
  const problem = schemaNameProblem(name);
  if (problem) throw new TypeError(`${setting} ${problem}, got ${JSON.stringify(name)}`);
  return name as string;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."name"`: a name that reaches the cache's schema whatever the connection's search_path. */
export function qualifiedName(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** `SET LOCAL search_path TO "schema"`: unqualified names inside one transaction reach the schema. */
export function setLocalSearchPath(schema: string): string {
  return `SET LOCAL search_path TO ${quoteIdent(schema)}`;
}
