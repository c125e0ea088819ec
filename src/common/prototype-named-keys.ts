/**
 * Messages for own keys named like Object.prototype's members ("toString", "valueOf",
 * "hasOwnProperty", ...) anywhere in a request's query or body. class-transformer skips such keys
 * when it builds a DTO (they name a function on the new object), so the whitelist never sees them
 * and they would be accepted silently; every unknown field must be refused instead. The message
 * is the whitelist's own ("<path>: property <key> should not exist"). Raw JSON fields (exercises)
 * are detached before this runs: their keys are data, not fields.
 */
export function prototypeNamedKeyMessages(value: unknown): string[] {
  const messages: string[] = [];
  const pending: { value: unknown; path: string }[] = [{ value, path: '' }];
  const seen = new WeakSet<object>();
  while (pending.length > 0) {
    const { value: current, path } = pending.pop()!;
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    for (const key of Object.keys(current)) {
      const at = path ? `${path}.${key}` : key;
      if (key in Object.prototype) messages.push(`${at}: property ${key} should not exist`);
      else pending.push({ value: (current as Record<string, unknown>)[key], path: at });
    }
  }
  return messages;
}

/**
 * Keys Nest's validation pipe would delete anywhere in the input before class-transformer sees it
 * (its prototype-pollution defence), silently changing a stored exercise; they are refused instead.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/** "<path>: the key "<key>" is not allowed" for the first forbidden key anywhere in `value`, else undefined. */
export function forbiddenKeyMessage(value: unknown): string | undefined {
  const pending: Visit[] = [{ value }];
  const seen = new WeakSet<object>();
  while (pending.length > 0) {
    const visit = pending.pop()!;
    const current = visit.value;
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    for (const key of Object.keys(current)) {
      const child: Visit = { value: (current as Record<string, unknown>)[key], key, parent: visit };
      if (FORBIDDEN_KEYS.has(key)) return `${pathOf(child)}: the key "${key}" is not allowed`;
      if (child.value !== null && typeof child.value === 'object') pending.push(child);
    }
  }
  return undefined;
}

/** A value met while walking the input; the path is only spelled out for a message. */
interface Visit {
  value: unknown;
  key?: string;
  parent?: Visit;
}

function pathOf(visit: Visit): string {
  const keys: string[] = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.');
}
