import { createHash, timingSafeEqual } from 'node:crypto';

/** One configured credential, kept only as its SHA-256 digest. */
export interface ApiKey {
  digest: Buffer;
  readOnly: boolean;
  /** Short, non-reversible name for rate-limit buckets (a prefix of the digest, never the key). */
  id: string;
}

const READ_ONLY_SUFFIX = ':ro';

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Parses API_KEYS ("k1,k2:ro,..."): a key ending in ":ro" is read-only and the suffix is not part
 * of the key. Throws for an empty key, which would otherwise match a bare "Bearer " header.
 */
export function parseApiKeys(value: string | undefined): ApiKey[] {
  if (!value) return [];
  return value.split(',').map((entry) => {
    const readOnly = entry.endsWith(READ_ONLY_SUFFIX);
    const key = readOnly ? entry.slice(0, -READ_ONLY_SUFFIX.length) : entry;
    if (key.length === 0) throw new Error('Invalid configuration: API_KEYS holds an empty key');
    const digest = sha256(key);
    return { digest, readOnly, id: digest.subarray(0, 8).toString('hex') };
  });
}

/**
 * Finds the key whose digest equals `presented`. Digests have equal length, so timingSafeEqual
 * compares every byte of every configured key: the time taken says nothing about how close a
 * guess was.
 */
export function matchDigest<T extends { digest: Buffer }>(presented: Buffer, candidates: readonly T[]): T | undefined {
  let found: T | undefined;
  for (const candidate of candidates) {
    if (timingSafeEqual(presented, candidate.digest) && !found) found = candidate;
  }
  return found;
}
