import { createHook } from 'node:async_hooks';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { TestApp, startTestApp } from '../support/test-app';
import { pollUntil } from './support/own-postgres';

const KEY_A = 'rate-key-a-6d2f8b1c9e4a7d3f';
const KEY_B = 'rate-key-b-1a9c7e3b5d2f8a4c';
const lookupUrl = '/exercise-cache?type=rate_limit&difficulty=1&topics=a';

function inject(t: TestApp, options: InjectOptions): Promise<LightMyRequestResponse> {
  return t.app.getHttpAdapter().getInstance().inject(options) as Promise<LightMyRequestResponse>;
}

async function statuses(t: TestApp, count: number, options: InjectOptions): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await inject(t, options)).statusCode);
  return result;
}

function expectTooManyRequests(res: LightMyRequestResponse, windowSeconds: number): void {
  expect(res.statusCode).toBe(429);
  expect(res.json()).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('too many requests') });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
}

describe('rate limiting', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('behind a proxy (TRUST_PROXY)', () => {
    const forwardedFrom = (ip: string) => ({ method: 'GET' as const, url: lookupUrl, headers: { 'x-forwarded-for': ip } });

    it('counts each forwarded client address separately when the proxy is trusted', async () => {
      const t = await startTestApp(db.url, { RATE_LIMIT_MAX: '2', TRUST_PROXY: 'true' });
      try {
        expect(await statuses(t, 3, forwardedFrom('203.0.113.7'))).toEqual([404, 404, 429]);
        expect(await statuses(t, 2, forwardedFrom('203.0.113.8'))).toEqual([404, 404]);
      } finally {
        await t.close();
      }
    });

    it('ignores X-Forwarded-For when no proxy is trusted, so it cannot buy a fresh budget', async () => {
      const t = await startTestApp(db.url, { RATE_LIMIT_MAX: '2' });
      try {
        expect(await statuses(t, 2, forwardedFrom('203.0.113.7'))).toEqual([404, 404]);
        expect(await statuses(t, 1, forwardedFrom('203.0.113.8'))).toEqual([429]);
      } finally {
        await t.close();
      }
    });
  });

  describe('per API key', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(db.url, { API_KEYS: `${KEY_A},${KEY_B}:ro`, RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' });
    });
    afterAll(() => t?.close());

    it('answers 429 with Retry-After after RATE_LIMIT_MAX requests in the window, counting every route together', async () => {
      const headers = { authorization: `Bearer ${KEY_A}` };
      const first = await inject(t, { method: 'GET', url: lookupUrl, headers });
      expect(first.statusCode).toBe(404);
      expect(first.headers['x-ratelimit-limit']).toBe('5');
      expect(first.headers['x-ratelimit-remaining']).toBe('4');
      expect(await statuses(t, 2, { method: 'GET', url: '/exercise-cache/stats', headers })).toEqual([200, 200]);
      const post = await inject(t, { method: 'POST', url: '/exercise-cache', headers, payload: { context: { type: 'rate_limit', difficulty: 1, topics: ['a'] }, exercise: { q: 1 } } });
      expect(post.statusCode).toBe(201);
      expect((await inject(t, { method: 'GET', url: lookupUrl, headers })).statusCode).toBe(200);
      for (const url of [lookupUrl, '/exercise-cache/stats']) expectTooManyRequests(await inject(t, { method: 'GET', url, headers }), 60);
      // A rejected request does not reach the handler: nothing was written.
      const rejected = await inject(t, { method: 'POST', url: '/exercise-cache', headers, payload: { context: { type: 'rate_limit', difficulty: 1, topics: ['b'] }, exercise: { q: 2 } } });
      expectTooManyRequests(rejected, 60);
      expect((await db.pool.query("SELECT count(*)::int AS n FROM exercise_cache WHERE exercise_type = 'rate_limit'")).rows[0].n).toBe(1);
    });

    it('gives another key its own budget, also as X-API-Key', async () => {
      const headers = { 'x-api-key': KEY_B };
      expect(await statuses(t, 5, { method: 'GET', url: lookupUrl, headers })).toEqual([200, 200, 200, 200, 200]);
      expectTooManyRequests(await inject(t, { method: 'GET', url: lookupUrl, headers }), 60);
    });

    it('counts invalid keys against the client address, so made-up keys buy no fresh budget', async () => {
      const attempts: number[] = [];
      for (let i = 0; i < 7; i++) {
        attempts.push((await inject(t, { method: 'GET', url: lookupUrl, headers: { authorization: `Bearer guess-${i}` }, remoteAddress: '203.0.113.7' })).statusCode);
      }
      expect(attempts).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const other = await inject(t, { method: 'GET', url: lookupUrl, headers: { authorization: 'Bearer guess-x' }, remoteAddress: '203.0.113.8' });
      expect(other.statusCode).toBe(401);
    });

    it('never limits /metrics and /health', async () => {
      for (const url of ['/metrics', '/health/live', '/health/ready', '/health']) {
        const results = await statuses(t, 8, { method: 'GET', url, headers: { authorization: `Bearer ${KEY_A}` } });
        expect({ url, limitedOrMissing: results.filter((s) => s === 429 || s === 404) }).toEqual({ url, limitedOrMissing: [] });
      }
    });
  });

  describe('per client address without API keys', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(db.url, { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
    });
    afterAll(() => t?.close());

    it('limits each address separately', async () => {
      const a = { method: 'GET' as const, url: lookupUrl, remoteAddress: '198.51.100.1' };
      const b = { method: 'GET' as const, url: lookupUrl, remoteAddress: '198.51.100.2' };
      expect(await statuses(t, 4, a)).toEqual([200, 200, 200, 429]);
      expect(await statuses(t, 4, b)).toEqual([200, 200, 200, 429]);
    });
  });

  describe('window', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(db.url, { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '1000' });
    });
    afterAll(() => t?.close());

    it('lets the client in again once the window has passed', async () => {
      const request = { method: 'GET' as const, url: lookupUrl, remoteAddress: '192.0.2.10' };
      // Three requests normally fall in one 1 s window; on a slow machine a window may end between
      // them, so keep asking until the limit bites (it must, within a few windows).
      let limited: LightMyRequestResponse | undefined;
      for (let i = 0; i < 30 && !limited; i++) {
        const res = await inject(t, request);
        if (res.statusCode === 429) limited = res;
        else expect(res.statusCode).toBe(200);
      }
      expect(limited).toBeDefined();
      expectTooManyRequests(limited!, 1);
      const again = await pollUntil(() => inject(t, request), (res) => res.statusCode !== 429, { timeoutMs: 10000 });
      expect(again.statusCode).toBe(200);
    });
  });

  describe('close', () => {
    it('stops the sweeper of ended windows: no timer of a closed app lives on', async () => {
      // An unref'd timer does not keep the process alive, so only its destruction shows that it
      // was cleared; left running, it kept the closed app's storage and modules in memory.
      const windowMs = 7919;
      const sweepers = new Set<number>();
      const hook = createHook({
        init(asyncId, type, _triggerAsyncId, resource) {
          if (type === 'Timeout' && (resource as { _repeat?: number | null })._repeat === windowMs) sweepers.add(asyncId);
        },
        destroy: (asyncId) => sweepers.delete(asyncId),
      }).enable();
      try {
        const t = await startTestApp(db.url, { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: String(windowMs) });
        try {
          expect((await inject(t, { method: 'GET', url: '/exercise-cache?type=rate_limit_close&difficulty=1&topics=a' })).statusCode).toBe(404);
          expect(sweepers.size).toBe(1);
        } finally {
          await t.close();
        }
        await pollUntil(() => sweepers.size, (size) => size === 0, { what: 'the sweeper timer to be cleared', timeoutMs: 2000, everyMs: 20 });
      } finally {
        hook.disable();
      }
    });
  });

  describe('RATE_LIMIT_MAX=0', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(db.url, { RATE_LIMIT_MAX: '0' });
    });
    afterAll(() => t?.close());

    it('switches the limit off', async () => {
      const results = await statuses(t, 30, { method: 'GET', url: lookupUrl });
      expect(results.every((s) => s === 200)).toBe(true);
      expect((await inject(t, { method: 'GET', url: lookupUrl })).headers['x-ratelimit-limit']).toBeUndefined();
    });
  });
});
