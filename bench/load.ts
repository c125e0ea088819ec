import autocannon from 'autocannon';
import os from 'node:os';
import { LatencySummary, Samples } from './stats';

/** What one autocannon run sends: a method, and a function giving each request its path and body. */
export interface LoadShape {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Called once per request. */
  next(): { path: string; body?: string };
  /** The status every response should have (200 hit, 404 miss, 201 stored). */
  expectedStatus: number;
}

export interface LoadResult {
  connections: number;
  durationSeconds: number;
  responses: number;
  requestsPerSecond: number;
  /** Every response, client side, in milliseconds (autocannon's own histogram keeps whole ms only). */
  latencyMs: LatencySummary;
  statusCounts: Record<string, number>;
  non2xx: number;
  /** Responses whose status was not the expected one. */
  unexpected: number;
  errors: number;
  timeouts: number;
  /** 1-minute load average when the run started: how busy the machine was. */
  loadAverage: number;
}

export async function runLoad(baseUrl: string, shape: LoadShape, connections: number, durationSeconds: number): Promise<LoadResult> {
  const latencies = new Samples();
  const statusCounts: Record<string, number> = {};
  let responses = 0;
  let unexpected = 0;
  let non2xx = 0;
  const loadAverage = os.loadavg()[0];
  const started = process.hrtime.bigint();
  const result = await new Promise<autocannon.AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections,
        duration: durationSeconds,
        pipelining: 1,
        timeout: 10,
        excludeErrorStats: false,
        requests: [
          {
            method: shape.method,
            headers: shape.headers,
            setupRequest: (request) => {
              const { path, body } = shape.next();
              request.path = path;
              if (body !== undefined) request.body = body;
              return request;
            },
          },
        ],
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      responses++;
      latencies.push(responseTime);
      statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
      if (statusCode < 200 || statusCode > 299) non2xx++;
      if (statusCode !== shape.expectedStatus) unexpected++;
    });
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    connections,
    durationSeconds: elapsed,
    responses,
    requestsPerSecond: responses / Math.min(elapsed, result.duration || elapsed),
    latencyMs: latencies.summary(),
    statusCounts,
    non2xx,
    unexpected,
    errors: result.errors,
    timeouts: result.timeouts,
    loadAverage,
  };
}
