import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

/** Label for requests that matched no route, so probing random URLs cannot grow the series. */
const UNMATCHED_ROUTE = 'unmatched';

/** Upper bounds in seconds: a cache hit takes well under a millisecond, a slow query seconds. */
const REQUEST_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * exercise_cache_http_request_duration_seconds by method, route pattern and status, measured in
 * one Fastify onResponse hook (no Nest interceptor on the hot path; the time includes
 * serialisation).
 */
@Injectable()
export class HttpMetrics implements OnModuleInit {
  private readonly histogram: Histogram<'method' | 'route' | 'status'>;

  constructor(
    registry: MetricsRegistry,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.histogram = new Histogram({
      name: 'exercise_cache_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: REQUEST_DURATION_BUCKETS,
      registers: [registry],
    });
  }

  /** Runs before Nest starts Fastify, so the hook applies to every route. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return; // no HTTP server (an application context without a platform)
    fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      this.histogram.observe(
        { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status: reply.statusCode },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
}
