import { CACHE_KEY_PATTERN } from '../cache-key';
import { MAX_DIFFICULTY, MAX_EXCLUDED_KEYS, MAX_TOPICS, MAX_VARIANTS, MIN_DIFFICULTY, NAMESPACE_PATTERN, TYPE_PATTERN, isValidTopic } from '../context-rules';
import type { LookupQueryDto } from './lookup-query.dto';

const KNOWN = new Set(['type', 'difficulty', 'topics', 'variants', 'exclude', 'namespace']);
/** Decimal digits as a query string carries a plain integer: no sign, no leading zero, no blanks. */
const PLAIN_INTEGER = /^(0|[1-9][0-9]{0,8})$/;

/** The number in a plain integer parameter from min to max, else undefined (class-validator decides). */
export function plainIntegerIn(value: unknown, min: number, max: number): number | undefined {
  if (typeof value !== 'string' || !PLAIN_INTEGER.test(value)) return undefined;
  const number = Number(value);
  return number >= min && number <= max ? number : undefined;
}

/** "a,b" or ["a", "b,c"] -> ["a", "b", "c"]; undefined when the shape is not plain strings. */
function listOf(value: unknown): string[] | undefined {
  if (value === undefined) return [];
  const parts = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  if (!parts) return undefined;
  const list: string[] = [];
  for (const part of parts) {
    if (typeof part !== 'string') return undefined;
    for (const item of part.split(',')) if (item !== '') list.push(item);
  }
  return list;
}

/**
 * The hot-path shortcut for GET /exercise-cache (see FastValidationPipe): the rules of
 * context-rules.ts that the LookupQueryDto decorators apply, for the plainly valid case only.
 * Unknown parameters, odd shapes or any doubt return undefined and class-validator takes over
 * (and words the 400).
 */
export function fastParseLookupQuery(value: unknown): LookupQueryDto | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const query = value as Record<string, unknown>;
  for (const name in query) if (!KNOWN.has(name)) return undefined;
  const { type, difficulty, variants, namespace } = query;
  if (namespace !== undefined && (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace))) return undefined;
  if (typeof type !== 'string' || !TYPE_PATTERN.test(type)) return undefined;
  const difficultyNumber = plainIntegerIn(difficulty, MIN_DIFFICULTY, MAX_DIFFICULTY);
  if (difficultyNumber === undefined) return undefined;
  const variantsNumber = variants === undefined ? undefined : plainIntegerIn(variants, 1, MAX_VARIANTS);
  if (variants !== undefined && variantsNumber === undefined) return undefined;
  const topics = listOf(query.topics);
  if (!topics || topics.length > MAX_TOPICS || !topics.every(isValidTopic)) return undefined;
  let exclude: string[] | undefined;
  if (query.exclude !== undefined) {
    exclude = listOf(query.exclude);
    if (!exclude || exclude.length > MAX_EXCLUDED_KEYS || !exclude.every((key) => CACHE_KEY_PATTERN.test(key))) return undefined;
  }
  return {
    type,
    difficulty: difficultyNumber,
    topics,
    ...(variantsNumber !== undefined ? { variants: variantsNumber } : {}),
    ...(exclude !== undefined ? { exclude } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
  } as LookupQueryDto;
}
