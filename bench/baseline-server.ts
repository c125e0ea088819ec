import { createServer } from 'node:http';
import { Pool } from 'pg';
import { ReferenceRow, hitBody, keyOfQuery, missBody } from './reference-response';

/**
 * The baseline: a bare Node http server answering GET /exercise-cache?type=&difficulty=&topics=
 * with one named prepared statement on a pg Pool of the service's size. Started by the bench in
 * a child process of its own: BENCH_DATABASE_URL, BENCH_PORT, BENCH_POOL_SIZE. It keeps its own
 * one query instead of asking the cache's repository on purpose: it is the bare http + pg
 * reference the service is measured against, so it must not share the service's code.
 */
const pool = new Pool({ connectionString: process.env.BENCH_DATABASE_URL, max: Number(process.env.BENCH_POOL_SIZE ?? 10) });
const FIND = {
  name: 'baseline_find_live_by_key',
  text: `SELECT cache_key, exercise_data, usage_count, created_at, expires_at
         FROM exercise_cache WHERE cache_key = $1 AND expires_at > now()`,
};

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const send = (status: number, body: string, cache?: string) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };
    if (cache) headers['x-cache'] = cache;
    res.writeHead(status, headers).end(body);
  };
  if (req.method !== 'GET' || url.pathname !== '/exercise-cache') return send(404, '{"statusCode":404,"message":"not found"}');
  const q = url.searchParams;
  const key = keyOfQuery(q.get('type') ?? undefined, q.get('difficulty') ?? undefined, q.get('topics') ?? undefined);
  if (!key) return send(400, '{"statusCode":400,"message":"type and difficulty are required"}');
  pool.query<ReferenceRow>({ ...FIND, values: [key] }).then(
    ({ rows }) => (rows.length > 0 ? send(200, hitBody(rows[0]), 'HIT') : send(404, missBody(key), 'MISS')),
    (error: Error) => send(503, JSON.stringify({ statusCode: 503, message: error.message })),
  );
});

server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
