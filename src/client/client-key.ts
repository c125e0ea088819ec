import type { ExerciseContext } from '../cache/cache-key';

// The server's key function (src/cache/cache-key.ts) rewritten on WebCrypto, so the client runs
// in browsers, Deno, Bun and Node 20+ without importing node:crypto. A property test
// (test/client/client-key.spec.ts) checks that both give the same key for any context.

const CACHE_KEY_VERSION = 'exercise-cache/v1';

/** Same folding as the server: NFD, trim, lower-upper-lower case fold, NFC; unique and sorted. */
export function normalizeTopics(topics: readonly string[]): string[] {
  const unique = new Set(topics.map((topic) => topic.normalize('NFD').trim().toLowerCase().toUpperCase().toLowerCase().normalize('NFC')));
  return [...unique].sort();
}

/**
 * The cache key of a context (and variant) as the service computes it: SHA-256 hex of
 * JSON [version, type, difficulty, [sorted topics]] (plus the variant number for 2..20); a
 * namespaced context appends the variant number (always) and then the namespace.
 */
export async function cacheKeyFor(context: ExerciseContext, variant = 1): Promise<string> {
  const fields: unknown[] = [CACHE_KEY_VERSION, context.type, context.difficulty, normalizeTopics(context.topics)];
  if (context.namespace !== undefined) fields.push(variant, context.namespace);
  else if (variant !== 1) fields.push(variant);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(fields)));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
