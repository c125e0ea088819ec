import { parseRequestCacheControl } from './request-cache-control';

describe(parseRequestCacheControl.name, () => {
  it('reads max-stale without a value as "within the stored grace"', () => {
    expect(parseRequestCacheControl('max-stale')).toEqual({ noCache: false, onlyIfCached: false, maxStale: true });
  });

  it('reads max-stale=N as N seconds, quoted or not', () => {
    expect(parseRequestCacheControl('max-stale=60')?.maxStale).toBe(60);
    expect(parseRequestCacheControl('max-stale="60"')?.maxStale).toBe(60);
  });

  it('takes the strictest of several max-stale values, a bare one being the loosest', () => {
    expect(parseRequestCacheControl('max-stale=60, max-stale=5')?.maxStale).toBe(5);
    expect(parseRequestCacheControl('max-stale=60, max-stale')?.maxStale).toBe(60);
    expect(parseRequestCacheControl('max-stale, max-stale=60')?.maxStale).toBe(60);
  });

  it('takes a value too large to represent as 2^31 seconds (RFC 9111 1.2.2)', () => {
    expect(parseRequestCacheControl('max-stale=9999999999')?.maxStale).toBe(2_147_483_647);
  });

  it('refuses a max-stale value that is no number of seconds, naming the directive', () => {
    expect(() => parseRequestCacheControl('max-stale=soon')).toThrow('Cache-Control max-stale must be a number of seconds');
    expect(() => parseRequestCacheControl('max-stale=-1')).toThrow('Cache-Control max-stale');
  });

  it('combines max-stale with the other directives', () => {
    expect(parseRequestCacheControl('only-if-cached, max-stale=30, max-age=600')).toEqual({ noCache: false, onlyIfCached: true, maxAge: 600, maxStale: 30 });
  });

  it('ignores unknown directives', () => {
    expect(parseRequestCacheControl('min-fresh=10, no-transform')).toBeUndefined();
  });
});
