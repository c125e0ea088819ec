import { Transform } from 'class-transformer';

const RAW_JSON_FIELDS = Symbol('rawJsonFields');

/** A raw JSON field and the rule its value must meet (undefined when it does, else the message). */
export interface RawJsonField {
  name: string;
  problem(value: unknown): string | undefined;
}

type WithRawJsonFields = { [RAW_JSON_FIELDS]?: readonly RawJsonField[] };

/**
 * Marks a free-form JSON field (an exercise) that must be kept exactly as parsed and must not be
 * walked by class-transformer: it copies an object key by key, silently drops keys named like
 * Object.prototype's methods ("toString", "valueOf", ...), and de-duplicates each object's keys
 * with a scan per key, so its cost grows with the square of the number of keys. The validation
 * pipe detaches such fields before class-transformer runs (see detachRawJson); the Transform
 * keeps the value as it is for code that calls plainToInstance itself.
 */
export const KeepRawJson = (problem: RawJsonField['problem']): PropertyDecorator => (target, key) => {
  const owner = target.constructor as WithRawJsonFields;
  const inherited = owner[RAW_JSON_FIELDS] ?? [];
  Object.defineProperty(owner, RAW_JSON_FIELDS, { value: [...inherited, { name: String(key), problem }], configurable: true });
  Transform(({ obj, key: name }) => (obj as Record<string, unknown>)[name], { toClassOnly: true })(target, key);
};

/** The fields of a DTO class marked with KeepRawJson (inherited ones included). */
export function rawJsonFieldsOf(metatype: unknown): readonly RawJsonField[] {
  return typeof metatype === 'function' ? ((metatype as WithRawJsonFields)[RAW_JSON_FIELDS] ?? []) : [];
}

export interface DetachedRawJson {
  /** A shallow copy of the input with each raw object or array replaced by an empty one of its kind. */
  readonly value: Record<string, unknown>;
  /**
   * What is wrong with the detached objects, by their fields' rules. A detached array is left to
   * the DTO's own rules, which see its stand-in.
   */
  readonly problems: string[];
  /** Puts the raw values back on the transformed DTO. */
  attach<T extends object>(dto: T): T;
}

/**
 * Takes the raw JSON fields out of a request body before class-transformer and class-validator
 * see it. A stand-in of the same kind (`{}` or `[]`) stays, so rules on the field's presence and
 * shape still apply; the caller checks the raw value itself (exerciseProblem) in one linear pass.
 * Undefined when there is nothing to detach.
 */
export function detachRawJson(value: unknown, rawFields: readonly RawJsonField[]): DetachedRawJson | undefined {
  if (rawFields.length === 0 || value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const input = value as Record<string, unknown>;
  const fields = new Map<string, unknown>();
  const problems: string[] = [];
  for (const { name, problem } of rawFields) {
    const raw = Object.hasOwn(input, name) ? input[name] : undefined;
    if (raw === null || typeof raw !== 'object') continue;
    fields.set(name, raw);
    const found = Array.isArray(raw) ? undefined : problem(raw);
    if (found !== undefined) problems.push(found);
  }
  if (fields.size === 0) return undefined;
  const copy: Record<string, unknown> = { ...input };
  for (const [name, raw] of fields) copy[name] = Array.isArray(raw) ? [] : {};
  return {
    value: copy,
    problems,
    attach: (dto) => {
      for (const [name, raw] of fields) (dto as Record<string, unknown>)[name] = raw;
      return dto;
    },
  };
}
