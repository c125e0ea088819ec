import { nestsDeeperThan } from './json-body';

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
