const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

export interface JsonTextScan {
  /** More than the limit's objects/arrays open at once (the scan stops there). */
  tooDeep: boolean;
  /** The first key that appears twice in one object, with its path ("exercise.q"). */
  duplicateKey?: { key: string; path: string };
}

/** The 400 message for a duplicate key, naming it and where it is. */
export function duplicateKeyMessage({ key, path }: { key: string; path: string }): string {
  return `${path}: the key "${key}" appears more than once; keys of a JSON object must be unique`;
}

/** One open object or array: the keys seen so far, and where in it the scan is. */
interface Frame {
  object: boolean;
  keys?: Set<string>;
  expectKey: boolean;
  at: string | number;
}

/**
 * One pass over JSON text, without parsing it: how deep it nests, and whether an object holds a
 * key twice (JSON.parse would silently keep the last). Lenient about malformed text, which the
 * parser refuses afterwards; only its answers for well-formed text matter.
 */
export function scanJsonText(body: Buffer, maxDepth: number): JsonTextScan {
  const frames: Frame[] = [];
  let duplicateKey: JsonTextScan['duplicateKey'];
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (byte === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < body.length && body[i] !== QUOTE; i++) {
        if (body[i] === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      const top = frames[frames.length - 1];
      if (duplicateKey === undefined && top?.object && top.expectKey) {
        const key = escaped ? decodeString(body, start, i) : body.toString('utf8', start + 1, i);
        top.expectKey = false;
        top.at = key;
        top.keys ??= new Set();
        if (top.keys.has(key)) duplicateKey = { key, path: pathOf(frames) };
        else top.keys.add(key);
      }
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (frames.length >= maxDepth) return { tooDeep: true };
      const object = byte === OPEN_OBJECT;
      frames.push({ object, expectKey: object, at: object ? '' : 0 });
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      frames.pop();
    } else if (byte === COMMA) {
      const top = frames[frames.length - 1];
      if (top?.object) top.expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
    }
  }
  return { tooDeep: false, duplicateKey };
}

function decodeString(body: Buffer, start: number, end: number): string {
  try {
    return JSON.parse(body.toString('utf8', start, end + 1)) as string;
  } catch {
    return body.toString('utf8', start + 1, end); // malformed: the parser refuses the body anyway
  }
}

function pathOf(frames: readonly Frame[]): string {
  return frames.map((frame) => String(frame.at)).join('.');
}
