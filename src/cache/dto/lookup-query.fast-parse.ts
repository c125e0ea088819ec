import { CACHE_KEY_PATTERN } from '../cache-key';
import { MAX_EXCLUDED_KEYS, MAX_TOPICS, NAMESPACE_PATTERN, TYPE_PATTERN, isValidTopic } from '../context-rules';
import type { LookupQueryDto } from './lookup-query.dto';

const KNOWN = new Set(['type', 'difficulty', 'topics', 'variants', 'exclude', 'namespace']);
const DIFFICULTY = /^[1-5]$/;
const VARIANTS = /^([1-9]|1[0-9]|20)$/;

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
 * The hot-path shortcut for GET /exercise-cache (see FastValidationPipe): the same rules as the
 * LookupQueryDto decorators, written out by hand, for the plainly valid case only. Unknown
 * parameters, odd shapes or any doubt return undefined and class-validator takes over.
 */
export function fastParseLookupQuery(value: unknown): LookupQueryDto | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const query = value as Record<string, unknown>;
  for (const name in query) if (!KNOWN.has(name)) return undefined;
  const { type, difficulty, variants, namespace } = query;
  if (namespace !== undefined && (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace))) return undefined;
  if (typeof type !== 'string' || !TYPE_PATTERN.test(type)) return undefined;
  if (typeof difficulty !== 'string' || !DIFFICULTY.test(difficulty)) return undefined;
  if (variants !== undefined && (typeof variants !== 'string' || !VARIANTS.test(variants))) return undefined;
  const topics = listOf(query.topics);
  if (!topics || topics.length > MAX_TOPICS || !topics.every(isValidTopic)) return undefined;
  let exclude: string[] | undefined;
  if (query.exclude !== undefined) {
    exclude = listOf(query.exclude);
    if (!exclude || exclude.length > MAX_EXCLUDED_KEYS || !exclude.every((key) => CACHE_KEY_PATTERN.test(key))) return undefined;
  }
  return {
    type,
    difficulty: Number(difficulty),
    topics,
    ...(variants !== undefined ? { variants: Number(variants) } : {}),
    ...(exclude !== undefined ? { exclude } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
  } as LookupQueryDto;
}
