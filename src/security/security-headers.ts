import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';

/**
 * helmet's default security headers (no Content-Security-Policy: this is a JSON API, and the
 * dashboard sets its own). The middleware is built once at boot, where @fastify/helmet would build
 * it again on every request.
 */
export function addSecurityHeaders(app: NestFastifyApplication): void {
  const setHeaders = helmet({ contentSecurityPolicy: false });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      setHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
    });
}
