import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { TestApp, startTestApp } from '../support/test-app';
import { startServerProcess } from './support/server-process';

const RW_KEY = 'rw-3f9c2a7d1e8b4c6a9f0d2e4b6c8a1f3e';
const RO_KEY = 'ro-7b1e9d3c5a2f4e6b8d0c1a3e5f7b9d2c';
const METRICS_TOKEN = 'metrics-5e2a8c4f1b7d3e9a6c0f2b4d8e1a3c5f';
const WRONG_KEY = 'wrong-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d';
const SECURED = { API_KEYS: `${RW_KEY},${RO_KEY}:ro`, METRICS_TOKEN };

const context = { type: 'auth_matrix', difficulty: 2, topics: ['keys'] };
const lookupUrl = '/exercise-cache?type=auth_matrix&difficulty=2&topics=keys';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const apiKey = (key: string) => ({ 'x-api-key': key });

function inject(t: TestApp, options: InjectOptions): Promise<LightMyRequestResponse> {
  return t.app.getHttpAdapter().getInstance().inject(options) as Promise<LightMyRequestResponse>;
}

describe('API keys', () => {
  let db: TestDatabase;
  let t: TestApp;
  let storedKey: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url, SECURED);
    const stored = await inject(t, { method: 'POST', url: '/exercise-cache', headers: bearer(RW_KEY), payload: { context, exercise: { q: 1 } } });
    expect(stored.statusCode).toBe(201);
    storedKey = stored.json().key;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  describe('without a valid key', () => {
    it.each([
      ['no header', {}, 'missing API key'],
      ['an empty Bearer', { authorization: 'Bearer ' }, 'missing API key'],
      ['Basic instead of Bearer', { authorization: `Basic ${RW_KEY}` }, 'missing API key'],
      ['a wrong Bearer key', bearer(WRONG_KEY), 'invalid API key'],
      ['a wrong X-API-Key', apiKey(WRONG_KEY), 'invalid API key'],
      ['a key with ":ro" appended (the suffix is not part of the key)', bearer(`${RO_KEY}:ro`), 'invalid API key'],
      ['a prefix of a real key', bearer(RW_KEY.slice(0, -1)), 'invalid API key'],
      ['the metrics token', bearer(METRICS_TOKEN), 'invalid API key'],
    ])('answers 401 with %s', async (_name, headers, message) => {
      for (const request of [
        { method: 'GET' as const, url: lookupUrl },
        { method: 'GET' as const, url: `/exercise-cache/${storedKey}` },
        { method: 'GET' as const, url: '/exercise-cache/stats' },
        { method: 'POST' as const, url: '/exercise-cache', payload: { context, exercise: { q: 2 } } },
        { method: 'DELETE' as const, url: `/exercise-cache/${storedKey}` },
      ]) {
        const res = await inject(t, { ...request, headers });
        expect({ url: request.url, method: request.method, status: res.statusCode }).toEqual({ url: request.url, method: request.method, status: 401 });
        expect(res.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringContaining(message) });
        expect(res.headers['www-authenticate']).toBe('Bearer realm="exercise-cache"');
      }
      const row = await db.pool.query('SELECT exercise_data FROM exercise_cache WHERE cache_key = $1', [storedKey]);
      expect(row.rows).toEqual([{ exercise_data: { q: 1 } }]);
    });

    it('checks the key before validating input (a bad query is still a 401)', async () => {
      const res = await inject(t, { method: 'GET', url: '/exercise-cache?difficulty=99' });
      expect(res.statusCode).toBe(401);
    });
  });

  describe.each([
    ['Authorization: Bearer', bearer],
    ['X-API-Key', apiKey],
  ])('with %s', (_name, header) => {
    it('a read-write key reads, writes and deletes', async () => {
      expect((await inject(t, { method: 'GET', url: lookupUrl, headers: header(RW_KEY) })).statusCode).toBe(200);
      expect((await inject(t, { method: 'GET', url: '/exercise-cache/stats', headers: header(RW_KEY) })).statusCode).toBe(200);
      const other = { ...context, topics: ['other'] };
      const post = await inject(t, { method: 'POST', url: '/exercise-cache', headers: header(RW_KEY), payload: { context: other, exercise: { q: 3 } } });
      expect(post.statusCode).toBe(201);
      const del = await inject(t, { method: 'DELETE', url: `/exercise-cache/${post.json().key}`, headers: header(RW_KEY) });
      expect(del.statusCode).toBe(204);
    });

    it('a read-only key reads but gets 403 on POST, DELETE and maintenance', async () => {
      expect((await inject(t, { method: 'GET', url: lookupUrl, headers: header(RO_KEY) })).statusCode).toBe(200);
      expect((await inject(t, { method: 'GET', url: `/exercise-cache/${storedKey}`, headers: header(RO_KEY) })).statusCode).toBe(200);
      expect((await inject(t, { method: 'GET', url: '/exercise-cache/popular', headers: header(RO_KEY) })).statusCode).toBe(200);
      for (const request of [
        { method: 'POST' as const, url: '/exercise-cache', payload: { context, exercise: { q: 'overwritten' } } },
        { method: 'DELETE' as const, url: `/exercise-cache/${storedKey}` },
        { method: 'DELETE' as const, url: lookupUrl },
        { method: 'POST' as const, url: '/exercise-cache/maintenance/cleanup' },
      ]) {
        const res = await inject(t, { ...request, headers: header(RO_KEY) });
        expect({ url: request.url, method: request.method, status: res.statusCode }).toEqual({ url: request.url, method: request.method, status: 403 });
        expect(res.json()).toEqual({ statusCode: 403, error: 'Forbidden', message: expect.stringContaining('read-only') });
      }
      const row = await db.pool.query('SELECT exercise_data FROM exercise_cache WHERE cache_key = $1', [storedKey]);
      expect(row.rows).toEqual([{ exercise_data: { q: 1 } }]);
    });
  });

  it('a read-write key may run maintenance', async () => {
    const res = await inject(t, { method: 'POST', url: '/exercise-cache/maintenance/cleanup', headers: bearer(RW_KEY) });
    expect(res.statusCode).toBe(200);
  });

  it('accepts the scheme in any case and surrounding spaces', async () => {
    expect((await inject(t, { method: 'GET', url: lookupUrl, headers: { authorization: `bearer  ${RW_KEY} ` } })).statusCode).toBe(200);
    expect((await inject(t, { method: 'GET', url: lookupUrl, headers: { authorization: `BEARER ${RO_KEY}` } })).statusCode).toBe(200);
  });

  describe('open and monitoring routes', () => {
    it.each(['/health/live', '/health/ready', '/docs', '/docs-json'])('%s needs no key', async (url) => {
      const res = await inject(t, { method: 'GET', url });
      expect(res.statusCode).toBe(200);
    });

    it.each(['/health', '/metrics'])('%s needs METRICS_TOKEN when it is set', async (url) => {
      for (const headers of [{}, bearer(WRONG_KEY), bearer(RW_KEY), apiKey(METRICS_TOKEN)]) {
        const res = await inject(t, { method: 'GET', url, headers });
        expect({ headers, status: res.statusCode }).toEqual({ headers, status: 401 });
        expect(res.json().message).toContain('metrics token');
      }
      const ok = await inject(t, { method: 'GET', url, headers: bearer(METRICS_TOKEN) });
      expect(ok.statusCode).toBe(200);
    });
  });
});

describe('without API_KEYS and METRICS_TOKEN', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('the API, /health and /metrics are open (development and tests)', async () => {
    expect((await inject(t, { method: 'GET', url: lookupUrl })).statusCode).toBe(404);
    expect((await inject(t, { method: 'POST', url: '/exercise-cache', payload: { context, exercise: { q: 1 } } })).statusCode).toBe(201);
    expect((await inject(t, { method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect((await inject(t, { method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('ignores a presented key (nothing to check it against)', async () => {
    expect((await inject(t, { method: 'GET', url: lookupUrl, headers: bearer(WRONG_KEY) })).statusCode).toBe(200);
  });
});

describe('logs', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('never contain an API key or the metrics token, whatever the outcome of the request', async () => {
    const server = await startServerProcess({
      ...SECURED,
      NODE_ENV: 'production',
      LOG_LEVEL: 'trace',
      DATABASE_URL: db.url,
    });
    try {
      const call = (method: string, url: string, headers: Record<string, string>, body?: unknown) =>
        fetch(`${server.url}${url}`, {
          method,
          headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        }).then((res) => res.status);
      const statuses = [
        await call('GET', lookupUrl, bearer(RW_KEY)),
        await call('GET', lookupUrl, apiKey(RO_KEY)),
        await call('POST', '/exercise-cache', bearer(RW_KEY), { context, exercise: { q: 1 } }),
        await call('POST', '/exercise-cache', apiKey(RO_KEY), { context, exercise: { q: 1 } }),
        await call('GET', lookupUrl, bearer(WRONG_KEY)),
        await call('GET', lookupUrl, apiKey(WRONG_KEY)),
        await call('GET', '/exercise-cache?difficulty=9', bearer(RW_KEY)),
        await call('GET', '/metrics', bearer(METRICS_TOKEN)),
        await call('GET', '/metrics', bearer(WRONG_KEY)),
      ];
      expect(statuses).toEqual([404, 404, 201, 403, 401, 401, 400, 200, 401]);
    } finally {
      const exit = await server.stop('SIGTERM');
      expect(exit.code).toBe(0);
    }
    const logs = server.output();
    // The capture works: every request above was logged, with its outcome.
    expect(logs).toContain('"statusCode":401');
    expect(logs).toContain('"statusCode":403');
    expect(logs.match(/"url":"\/exercise-cache/g)?.length).toBeGreaterThanOrEqual(7);
    for (const secret of [RW_KEY, RO_KEY, WRONG_KEY, METRICS_TOKEN]) {
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(secret.slice(3, 19)); // not even a fragment
    }
  });
});

describe('production without API_KEYS', () => {
  it('refuses to start, with one line saying what to set', async () => {
    const server = await startServerProcess({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/never' }, { waitForListen: false });
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    const lines = server.output().trim().split('\n');
    expect(lines).toEqual([expect.stringContaining('API_KEYS is required when NODE_ENV=production')]);
  });
});

describe('API documentation', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url, SECURED);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('declares Bearer or X-API-Key on every operation, so Swagger UI sends the key', async () => {
    const doc = (await inject(t, { method: 'GET', url: '/docs-json' })).json();
    expect(doc.components.securitySchemes).toMatchObject({ bearer: { type: 'http', scheme: 'bearer' }, 'api-key': { type: 'apiKey', name: 'X-API-Key', in: 'header' } });
    expect(doc.security).toEqual([{ bearer: [] }, { 'api-key': [] }]);
  });
});
