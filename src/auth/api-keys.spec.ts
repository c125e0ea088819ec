import { matchDigest, parseApiKeys, sha256 } from './api-keys';

describe('parseApiKeys', () => {
  it('reads read-write and read-only keys; ":ro" is not part of the key', () => {
    const [rw, ro] = parseApiKeys('alpha-key,beta-key:ro');
    expect(rw.readOnly).toBe(false);
    expect(rw.digest.equals(sha256('alpha-key'))).toBe(true);
    expect(ro.readOnly).toBe(true);
    expect(ro.digest.equals(sha256('beta-key'))).toBe(true);
    expect(ro.digest.equals(sha256('beta-key:ro'))).toBe(false);
  });

  it('names a key by a digest prefix, never by the key itself', () => {
    const [key] = parseApiKeys('secret-value-123');
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(key.id).not.toContain('secret');
  });

  it('returns no keys when API_KEYS is unset', () => {
    expect(parseApiKeys(undefined)).toEqual([]);
  });

  it('refuses an empty key (":ro" alone)', () => {
    expect(() => parseApiKeys('good,:ro')).toThrow('API_KEYS holds an empty key');
  });
});

describe('matchDigest', () => {
  const keys = parseApiKeys('one,two:ro,three');

  it('finds the key whose digest matches', () => {
    expect(matchDigest(sha256('two'), keys)).toBe(keys[1]);
    expect(matchDigest(sha256('three'), keys)).toBe(keys[2]);
  });

  it('finds nothing for a wrong key, a prefix of a key, or an empty string', () => {
    for (const wrong of ['four', 'on', 'one ', '', 'two:ro']) expect(matchDigest(sha256(wrong), keys)).toBeUndefined();
  });
});
