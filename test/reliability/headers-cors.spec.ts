import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { TestApp, startTestApp } from '../support/test-app';

const KEY = 'headers-key-4b8e2f6a1c9d3e7b';
const inject = (t: TestApp, options: InjectOptions) => t.app.getHttpAdapter().getInstance().inject(options) as Promise<LightMyRequestResponse>;

describe('security headers and CORS', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('without CORS_ORIGINS', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(db.url, { API_KEYS: KEY });
    });
    afterAll(() => t?.close());

    it.each([
      ['a hit or miss', { method: 'GET' as const, url: '/exercise-cache?type=h&difficulty=1', headers: { authorization: `Bearer ${KEY}` } }, 404],
      ['a 401', { method: 'GET' as const, url: '/exercise-cache?type=h&difficulty=1' }, 401],
      ['a 400', { method: 'GET' as const, url: '/exercise-cache?type=h&difficulty=9', headers: { authorization: `Bearer ${KEY}` } }, 400],
      ['an unknown route', { method: 'GET' as const, url: '/nope' }, 404],
      ['a probe', { method: 'GET' as const, url: '/health/live' }, 200],
    ])('sends the security headers on %s', async (_name, request, status) => {
      const res = await inject(t, request);
      expect(res.statusCode).toBe(status);
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': expect.stringMatching(/max-age=\d+/),
        'referrer-policy': 'no-referrer',
        'x-dns-prefetch-control': 'off',
        'x-download-options': 'noopen',
        'x-permitted-cross-domain-policies': 'none',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'origin-agent-cluster': '?1',
      });
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('allows no cross-origin caller: no Access-Control-Allow-Origin, preflight not answered', async () => {
      const simple = await inject(t, { method: 'GET', url: '/exercise-cache?type=h&difficulty=1', headers: { origin: 'https://app.example', authorization: `Bearer ${KEY}` } });
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await inject(t, {
        method: 'OPTIONS',
        url: '/exercise-cache',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
    });
  });

  describe('with CORS_ORIGINS', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(db.url, { API_KEYS: KEY, CORS_ORIGINS: 'https://app.example, https://admin.example' });
    });
    afterAll(() => t?.close());

    it('answers the listed origins only', async () => {
      for (const origin of ['https://app.example', 'https://admin.example']) {
        const res = await inject(t, { method: 'GET', url: '/exercise-cache?type=h&difficulty=1', headers: { origin, authorization: `Bearer ${KEY}` } });
        expect(res.headers['access-control-allow-origin']).toBe(origin);
        expect(res.headers['access-control-expose-headers']).toContain('X-Cache');
        expect(res.headers['access-control-expose-headers']).toContain('Retry-After');
      }
      const other = await inject(t, { method: 'GET', url: '/exercise-cache?type=h&difficulty=1', headers: { origin: 'https://evil.example', authorization: `Bearer ${KEY}` } });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('answers a preflight from a listed origin without asking for a key (the browser sends none)', async () => {
      const preflight = await inject(t, {
        method: 'OPTIONS',
        url: '/exercise-cache',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    });
  });
});
