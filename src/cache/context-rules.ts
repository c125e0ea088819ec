import { CACHE_KEY_PATTERN, ExerciseContext, normalizeTopic } from './cache-key';

// The one source of the rules for a context and the options of a call: the limits, the patterns
// built from them and the message for each broken rule. The library's checks below, the request
// DTOs' decorators (dto/context-rule.decorators.ts) and the lookup's fast path
// (dto/lookup-query.fast-parse.ts) all read them here, so a limit changes in one line.

export const MAX_TYPE_LENGTH = 50;
export const TYPE_PATTERN = new RegExp(`^[a-z0-9_-]{1,${MAX_TYPE_LENGTH}}$`);
/** A namespace: characters that are safe in a query string, a file name and a log line. */
export const MAX_NAMESPACE_LENGTH = 64;
export const NAMESPACE_PATTERN = new RegExp(`^[a-z0-9_.:-]{1,${MAX_NAMESPACE_LENGTH}}$`);
/** A generator version ("prompt-v7/gpt-5-mini"): printable ASCII. */
export const MAX_GENERATOR_VERSION_LENGTH = 100;
export const GENERATOR_VERSION_PATTERN = new RegExp(`^[\\x20-\\x7e]{1,${MAX_GENERATOR_VERSION_LENGTH}}$`);
export const MAX_TOPICS = 20;
export const MAX_TOPIC_LENGTH = 64;
/** Control characters (C0 with NUL, DEL, C1) cannot be stored in PostgreSQL text or are never meant. */
export const TOPIC_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f]/;
export const MIN_DIFFICULTY = 1;
export const MAX_DIFFICULTY = 5;
export const MAX_TTL_SECONDS = 2_592_000;
export const MAX_VARIANTS = 20;
export const MAX_EXCLUDED_KEYS = 100;
export const MAX_GENERATION_COST = 9999;
/** The largest PostgreSQL integer. */
export const MAX_GENERATION_TIME_MS = 2_147_483_647;
/** Near misses: the most shared topics one can ask for, and the most entries one answer lists. */
export const MAX_MIN_OVERLAP = MAX_TOPICS;
export const MAX_NEAR_RESULTS = 100;
/** Statistics lists (popular, least recently used) and the days of daily metrics. */
export const MAX_LIST_LIMIT = 1000;
export const MAX_METRICS_DAYS = 3660;
/** The largest size bound an eviction accepts. */
export const MAX_ENTRIES_LIMIT = 100_000_000;
export const MAX_EXERCISE_DEPTH = 32;
/**
 * Values (object members and array elements, at every level) an exercise may hold: far more than
 * any learning exercise needs, and it bounds the work one request can cause.
 */
export const MAX_EXERCISE_VALUES = 10_000;
/**
 * The type lookup outcomes are counted under when their type has no stored entry: not a valid
 * type (parentheses), so it never collides with one.
 */
export const UNKNOWN_TYPE_BUCKET = '(unknown)';

/**
 * The message for each broken rule, naming the field as the caller spelled it: "context.type" for
 * the library and a POST body, "type" for a query parameter. Every message starts with the field.
 */
export const RULE_MESSAGES = {
  type: (field = 'type') => `${field} must be 1..${MAX_TYPE_LENGTH} characters of a-z, 0-9, "_" and "-"`,
  difficulty: (field = 'difficulty') => integerRangeMessage(field, MIN_DIFFICULTY, MAX_DIFFICULTY),
  topicList: (field = 'topics') => `${field} must be an array of strings`,
  topicCount: (field = 'topics') => `${field} must hold at most ${MAX_TOPICS} topics`,
  topic: (field = 'topics') => `${field} must hold strings of 1..${MAX_TOPIC_LENGTH} characters without control characters`,
  namespace: (field = 'namespace') => `${field} must be 1..${MAX_NAMESPACE_LENGTH} characters of a-z, 0-9, "_", ".", ":" and "-"`,
  generatorVersion: (field = 'generatorVersion') => `${field} must be 1..${MAX_GENERATOR_VERSION_LENGTH} printable ASCII characters`,
  key: (field = 'key') => `${field} must be 64 lowercase hex characters`,
  keyCount: (field = 'exclude') => `${field} must hold at most ${MAX_EXCLUDED_KEYS} keys`,
  keyList: (field = 'exclude') => `${field} must hold cache keys of 64 lowercase hex characters`,
  generationCost: (field = 'generationCost') => `${field} must be a number from 0 to ${MAX_GENERATION_COST}`,
};

/** "<field> must be an integer from <min> to <max>[ (<unit>)]": every integer option's message. */
export function integerRangeMessage(field: string, min: number, max: number, unit?: string): string {
  return `${field} must be an integer from ${min} to ${max}${unit ? ` (${unit})` : ''}`;
}

export const NAMESPACE_MESSAGE = RULE_MESSAGES.namespace();
export const GENERATOR_VERSION_MESSAGE = RULE_MESSAGES.generatorVersion();

/**
 * A caller's mistake (over HTTP the DTOs catch the same mistakes first). Framework-free, but shaped
 * like an "http-errors" error (status, statusCode, expose), so a Nest app without any filter of its
 * own answers it with a 400 carrying the message. `field` names what is wrong ("context.type").
 */
export class InvalidCacheRequestError extends Error {
  readonly status = 400;
  readonly statusCode = 400;
  readonly expose = true;
  override name = 'InvalidCacheRequestError';
  /** The body the HTTP service answers with (the shape of its validation errors). */
  readonly response: { statusCode: 400; error: 'Bad Request'; message: string[] };

  constructor(
    message: string,
    /** The option or field at fault; every message starts with it. */
    readonly field: string = message.split(' ', 1)[0],
  ) {
    super(message);
    this.response = { statusCode: 400, error: 'Bad Request', message: [message] };
  }

  getStatus(): number {
    return 400;
  }

  getResponse(): object {
    return this.response;
  }
}

export function assertValidContext(context: ExerciseContext): void {
  if (!context || typeof context !== 'object') throw new InvalidCacheRequestError('context must be an object');
  if (typeof context.type !== 'string' || !TYPE_PATTERN.test(context.type)) throw new InvalidCacheRequestError(RULE_MESSAGES.type('context.type'));
  if (!Number.isInteger(context.difficulty) || context.difficulty < MIN_DIFFICULTY || context.difficulty > MAX_DIFFICULTY) {
    throw new InvalidCacheRequestError(RULE_MESSAGES.difficulty('context.difficulty'));
  }
  const topicsMistake = topicsProblem(context.topics, 'context.topics');
  if (topicsMistake) throw new InvalidCacheRequestError(topicsMistake);
  if (context.namespace !== undefined) assertValidNamespace(context.namespace, 'context.namespace');
}

/** What is wrong with a context's topics (the first problem, naming `field`), or undefined. */
export function topicsProblem(topics: unknown, field: string): string | undefined {
  if (!Array.isArray(topics)) return RULE_MESSAGES.topicList(field);
  if (topics.length > MAX_TOPICS) return RULE_MESSAGES.topicCount(field);
  if (!topics.every(isValidTopic)) return RULE_MESSAGES.topic(field);
  return undefined;
}

export function assertValidGeneratorVersion(version: unknown): void {
  if (version === undefined) return;
  if (typeof version !== 'string' || !GENERATOR_VERSION_PATTERN.test(version)) throw new InvalidCacheRequestError(RULE_MESSAGES.generatorVersion());
}

export function assertValidNamespace(namespace: unknown, name = 'namespace'): asserts namespace is string {
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
    throw new InvalidCacheRequestError(RULE_MESSAGES.namespace(name));
  }
}

/** Half of a UTF-16 surrogate pair without its other half: not text, and not storable as UTF-8. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Printable ASCII: normalising it only trims and lower-cases, which keeps the trimmed length. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The length limit applies to the topic as stored, after normalisation: case folding can lengthen
 * a topic ("ﬃ" becomes "ffi", "ß" becomes "ss"), and a topic stored longer than the limit could
 * never be looked up again.
 */
export function isValidTopic(topic: unknown): boolean {
  if (typeof topic !== 'string' || TOPIC_FORBIDDEN.test(topic) || UNPAIRED_SURROGATE.test(topic)) return false;
  const length = PRINTABLE_ASCII.test(topic) ? topic.trim().length : [...normalizeTopic(topic)].length;
  return length >= 1 && length <= MAX_TOPIC_LENGTH;
}

export const UNSTORABLE_EXERCISE_MESSAGE = 'exercise must not contain NUL characters (\\u0000), unpaired surrogates or non-finite numbers';
export const EXERCISE_SHAPE_MESSAGE = `exercise must be a JSON object nested at most ${MAX_EXERCISE_DEPTH} levels deep`;
export const EXERCISE_SIZE_MESSAGE = `exercise must hold at most ${MAX_EXERCISE_VALUES} values (object members and array elements, counted at every level)`;

export function assertValidExercise(exercise: unknown): asserts exercise is Record<string, unknown> {
  if (exercise === null || typeof exercise !== 'object' || Array.isArray(exercise)) {
    throw new InvalidCacheRequestError('exercise must be a JSON object');
  }
  const problem = exerciseProblem(exercise);
  if (problem) throw new InvalidCacheRequestError(problem);
}

/**
 * What is wrong with an exercise, or undefined: it must be a JSON object nested at most
 * MAX_EXERCISE_DEPTH levels, hold at most MAX_EXERCISE_VALUES values, and be storable as jsonb
 * (PostgreSQL rejects the NUL character and unpaired surrogates, and JSON has no Infinity or NaN,
 * which would be stored as null). One pass over the value, stopping at the first problem, so the
 * work per exercise is linear in its size and bounded by the limits.
 */
export function exerciseProblem(exercise: unknown): string | undefined {
  if (exercise === null || typeof exercise !== 'object' || Array.isArray(exercise)) return EXERCISE_SHAPE_MESSAGE;
  let values = 0;
  const pending: { value: object; depth: number }[] = [{ value: exercise, depth: 1 }];
  while (pending.length > 0) {
    const { value, depth } = pending.pop()!;
    if (depth > MAX_EXERCISE_DEPTH) return EXERCISE_SHAPE_MESSAGE;
    const isArray = Array.isArray(value);
    for (const key of Object.keys(value)) {
      if (++values > MAX_EXERCISE_VALUES) return EXERCISE_SIZE_MESSAGE;
      if (!isArray && !isStorableString(key)) return UNSTORABLE_EXERCISE_MESSAGE;
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === 'string') {
        if (!isStorableString(child)) return UNSTORABLE_EXERCISE_MESSAGE;
      } else if (typeof child === 'number') {
        if (!Number.isFinite(child)) return UNSTORABLE_EXERCISE_MESSAGE;
      } else if (child !== null && typeof child === 'object') {
        pending.push({ value: child, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

const isStorableString = (text: string) => !text.includes('\u0000') && !UNPAIRED_SURROGATE.test(text);

export function assertValidKeys(keys: readonly string[], name = 'exclude'): void {
  if (keys.length > MAX_EXCLUDED_KEYS) throw new InvalidCacheRequestError(RULE_MESSAGES.keyCount(name));
  for (const key of keys) {
    if (!CACHE_KEY_PATTERN.test(key)) throw new InvalidCacheRequestError(RULE_MESSAGES.keyList(name));
  }
}

export function assertIntegerInRange(value: number | undefined, name: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidCacheRequestError(integerRangeMessage(name, min, max));
  }
}
