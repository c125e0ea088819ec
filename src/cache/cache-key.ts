import { createHash } from 'node:crypto';

/** What an exercise is cached by. */
export interface ExerciseContext {
  /** 1..50 characters of a-z, 0-9, "_" and "-". */
  type: string;
  /** Integer 1..5. */
  difficulty: number;
  /** 0..20 topics of 1..64 characters; order, case, surrounding space and repeats do not matter. */
  topics: readonly string[];
  /**
   * Optional partition (a tenant, locale or course): 1..64 characters of a-z, 0-9, "_", ".", ":"
   * and "-". Entries of different namespaces never meet: not in keys, near misses or variants.
   */
  namespace?: string;
}

/** A context after normalisation: the form that is hashed and stored. */
export interface CanonicalContext {
  type: string;
  difficulty: number;
  topics: string[];
  namespace?: string;
}

/** Bumped only if the encoding below ever changes (every key would change with it). */
export const CACHE_KEY_VERSION = 'exercise-cache/v1';

/** Trims, case-folds (locale-independent) and NFC-normalises topics, drops repeats, sorts them. */
export function normalizeTopics(topics: readonly string[]): string[] {
  const unique = new Set(topics.map(normalizeTopic));
  return [...unique].sort();
}

/**
 * A plain toLowerCase() is not enough for "case never changes the key": it lower-cases a final
 * capital sigma to "ς" but leaves a typed "σ" alone ("ΟΔΟΣ" and "οδοσ" would differ), and maps
 * "ẞ" to "ß" while "SS" stays "ss". Lower, upper, then lower again folds every case variant of a
 * topic to one spelling (ASCII topics are simply lower-cased); decomposing first (NFD) lets
 * combining marks such as the Greek iota subscript fold with their letter, NFC recomposes.
 */
export function normalizeTopic(topic: string): string {
  return topic.normalize('NFD').trim().toLowerCase().toUpperCase().toLowerCase().normalize('NFC');
}

export function canonicalize(context: ExerciseContext): CanonicalContext {
  const canonical: CanonicalContext = { type: context.type, difficulty: context.difficulty, topics: normalizeTopics(context.topics) };
  if (context.namespace !== undefined) canonical.namespace = context.namespace;
  return canonical;
}

/**
 * The canonical encoding: a JSON array [version, type, difficulty, [topics...]] (plus the variant
 * number for variants 2..20). JSON quotes and escapes every string, so no choice of topics can make
 * two different contexts encode alike (the original joined fields with "_", which could).
 * A namespaced context always appends the variant number and then the namespace, so its array has
 * six members and no context without a namespace (four or five members) can encode alike; without
 * a namespace the encoding is exactly what it was before namespaces existed.
 */
export function encodeContext(context: CanonicalContext, variant = 1): string {
  const fields: unknown[] = [CACHE_KEY_VERSION, context.type, context.difficulty, context.topics];
  if (context.namespace !== undefined) fields.push(variant, context.namespace);
  else if (variant !== 1) fields.push(variant);
  return JSON.stringify(fields);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The cache key: SHA-256 (64 lowercase hex characters) of the canonical encoding. Variant 1 is the
 * plain context, so a single-variant cache has exactly one key per context. Clients may compute
 * keys themselves with this function.
 */
export function cacheKeyFor(context: ExerciseContext, variant = 1): string {
  return keyOfCanonical(canonicalize(context), variant);
}

/** cacheKeyFor for a context that is already canonical: the hot path normalises topics once. */
export function keyOfCanonical(canonical: CanonicalContext, variant = 1): string {
  return sha256(encodeContext(canonical, variant));
}

/** Key shared by all variants of a context (equal to the key of variant 1). */
export function contextKeyFor(context: ExerciseContext): string {
  return cacheKeyFor(context, 1);
}

/**
 * Hash of (difficulty, topics) without the type: finds similar exercises of any type. The
 * namespace, when there is one, is part of it, so similar entries never cross namespaces.
 */
export function userContextHashFor(context: ExerciseContext): string {
  const canonical = canonicalize(context);
  const fields: unknown[] = [CACHE_KEY_VERSION, canonical.difficulty, canonical.topics];
  if (canonical.namespace !== undefined) fields.push(canonical.namespace);
  return sha256(JSON.stringify(fields));
}

export const CACHE_KEY_PATTERN = /^[0-9a-f]{64}$/;
