import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

type Observer = { observe(value: number): void };

/** Label for requests that matched no route, so probing random URLs cannot grow the series. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * exercise_cache_http_request_duration_seconds by method, route pattern and status, measured in a
 * Fastify onResponse hook: no Nest interceptor on the hot path, and the time includes
 * serialisation. The labelled child of each (method, route, status) is looked up once and kept,
 * so a request costs one Map lookup and one observe().
 */
@Injectable()
export class HttpMetrics implements OnModuleInit {
  private readonly histogram: Histogram<'method' | 'route' | 'status'>;
  private readonly children = new Map<string, Observer>();

  constructor(
    registry: MetricsRegistry,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.histogram = new Histogram({
      name: 'exercise_cache_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** Runs before Nest starts Fastify, so the hook applies to every route. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return; // no HTTP server (an application context without a platform)
    fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      this.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime);
      done();
    });
  }

  observe(method: string, route: string | undefined, status: number, elapsedMs: number): void {
    const key = `${method} ${status} ${route ?? ''}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.histogram.labels(method, route ?? UNMATCHED_ROUTE, String(status));
      this.children.set(key, child);
    }
    child.observe(elapsedMs / 1000);
  }
}
