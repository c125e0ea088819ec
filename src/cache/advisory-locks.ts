/**
 * PostgreSQL advisory lock keys of the cache, as (space, id) pairs: the space says what is locked,
 * the id which one. Maintenance jobs use space 0x45430002 (src/maintenance).
 */
export const GENERATION_LOCK_SPACE = 0x45430001;
export const CONTEXT_LOCK_SPACE = 0x45430003;

/** The lock id of a cache or context key: its first 32 bits (keys are SHA-256 hex). */
export function advisoryLockIdOf(key: string): number {
  return Number.parseInt(key.slice(0, 8), 16) | 0;
}
