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
