import { nestsDeeperThan } from './json-body';
import { scanJsonText } from './json-text-scan';

const depth = (n: number) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`);

describe('nestsDeeperThan', () => {
  it('counts objects and arrays', () => {
    expect(nestsDeeperThan(depth(3), 3)).toBe(false);
    expect(nestsDeeperThan(depth(4), 3)).toBe(true);
    expect(nestsDeeperThan(Buffer.from('{"a":{"b":[1,{"c":2}]}}'), 4)).toBe(false);
    expect(nestsDeeperThan(Buffer.from('{"a":{"b":[1,{"c":{}}]}}'), 4)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(Buffer.from('{"a":"[[[[{{{{"}'), 1)).toBe(false);
    expect(nestsDeeperThan(Buffer.from('{"a":"\\"[[[[\\\\"}'), 1)).toBe(false);
    expect(nestsDeeperThan(Buffer.from('{"a":"\\\\","b":[[1]]}'), 2)).toBe(true);
  });

  it('reads multi-byte UTF-8 text without confusing it for brackets', () => {
    expect(nestsDeeperThan(Buffer.from('{"t":"日本語🙂","u":["é"]}'), 2)).toBe(false);
  });
});

describe('scanJsonText', () => {
  const duplicateIn = (text: string) => scanJsonText(Buffer.from(text), 64).duplicateKey;

  it('finds a key given twice in one object, with its path', () => {
    expect(duplicateIn('{"a":1,"a":2}')).toEqual({ key: 'a', path: 'a' });
    expect(duplicateIn('{"exercise":{"x":{"q":1,"r":2,"q":3}}}')).toEqual({ key: 'q', path: 'exercise.x.q' });
    expect(duplicateIn('{"e":{"list":[{"a":1},{"b":1,"b":2}]}}')).toEqual({ key: 'b', path: 'e.list.1.b' });
  });

  it('compares keys as decoded text: an escape spells the same key', () => {
    expect(duplicateIn('{"q":1,"\\u0071":2}')).toEqual({ key: 'q', path: 'q' });
    expect(duplicateIn('{"é":1,"\\u00e9":2}')).toEqual({ key: 'é', path: 'é' });
  });

  it('allows the same key in different objects, and keys that only appear as values', () => {
    expect(duplicateIn('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":"a","d":["a","a"]}')).toBeUndefined();
    expect(duplicateIn('{"a":"\\"a\\":","b":"{\\"a\\":1,\\"a\\":2}"}')).toBeUndefined();
  });
});
