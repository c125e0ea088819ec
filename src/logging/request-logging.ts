import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[\w.-]{1,64}$/;
/** Probes answer every few seconds; logging them would drown the log. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready']);

/** Fastify's genReqId: the caller's X-Request-Id when it is sane, else a new UUID. */
export function requestIdOf(request: { headers: FastifyRequest['headers'] }): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One JSON line per request, with its id, method, URL, status and duration, at info (2xx/3xx),
 * warn (4xx) or error (5xx). Headers (API keys) and bodies (exercise payloads) are never logged.
 * The request id is echoed in the X-Request-Id response header.
 */
export function addRequestLogging(app: NestFastifyApplication, logger: Logger): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    if (!QUIET_ROUTES.has(request.routeOptions.url ?? '')) {
      const status = reply.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      logger[level](
        { req: { id: request.id, method: request.method, url: request.url }, res: { statusCode: status }, responseTime: reply.elapsedTime },
        'request completed',
      );
    }
    done();
  });
}
