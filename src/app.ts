import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { FastValidationPipe } from './common/fast-validation.pipe';
import { VALIDATION_OPTIONS } from './common/validation-options';
import { AppConfig, trustProxyOf } from './config/app-config';
import type { DatabaseHandle } from './database/database-handle';
import { ROOT_LOGGER } from './logging/logging.module';
import { addRequestLogging, requestIdOf } from './logging/request-logging';
import { acceptJsonBodiesOnly } from './security/json-body';
import { addSecurityHeaders } from './security/security-headers';

/**
 * Builds the application exactly as it runs in production; main.ts, the CLI and the e2e tests
 * all come through here, so tests exercise the shipped pipes, filters and hooks.
 */
export async function createApp(config: AppConfig, database: DatabaseHandle): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    genReqId: requestIdOf,
    trustProxy: trustProxyOf(config),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // On close, in-flight requests finish; keep-alive sockets are drained by drainKeepAliveGently.
    forceCloseConnections: 'idle',
    // While closing, requests already on an open connection are served (with Connection: close),
    // not answered 503: a client that sent one before the listener closed gets a real answer.
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, database), adapter, {
    bufferLogs: true,
  });
  drainKeepAliveGently(app.getHttpServer());
  app.useLogger(app.get(Logger));
  addRequestLogging(app, app.get(ROOT_LOGGER));
  acceptJsonBodiesOnly(app, config.BODY_LIMIT_BYTES);
  addSecurityHeaders(app);
  if (config.CORS_ORIGINS) {
    app.enableCors({
      origin: config.CORS_ORIGINS.split(',').map((o) => o.trim()),
      // Browsers hide response headers from scripts unless listed: hit/miss, rate limits, request id.
      exposedHeaders: ['X-Cache', 'X-Cache-Lease', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'X-Request-Id'],
    });
  }
  app.useGlobalPipes(
    new FastValidationPipe(VALIDATION_OPTIONS),
  );
  app.useGlobalFilters(new AllExceptionsFilter(app.get(Logger)));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('exercise-cache')
      .setDescription('Caches AI-generated learning exercises in PostgreSQL')
      .setVersion('0.1.0')
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', name: 'X-API-Key', in: 'header' }, 'api-key')
      // Either credential on every operation, so "Try it out" sends the key entered under Authorize.
      .addSecurityRequirements('bearer')
      .addSecurityRequirements('api-key')
      .build(),
  );
  // On Fastify the UI's scripts and styles are served by @fastify/static, a dependency for this alone.
  SwaggerModule.setup('docs', app, document);
  return app;
}

/** How long open keep-alive connections may stay silent after close() before they are dropped. */
const KEEP_ALIVE_DRAIN_MS = 1000;

/**
 * server.close() destroys every keep-alive connection that is idle at that instant, including
 * one whose next request is already on the wire but not yet read: its client gets ECONNRESET for
 * a request the server never saw, as busy keep-alive clients do on most shutdowns (the clients of
 * test/operations/shutdown.spec.ts). Instead, open connections get KEEP_ALIVE_DRAIN_MS: a request
 * that arrives on one is served with "Connection: close" (Fastify adds it while closing) and the
 * client closes it cleanly; only connections silent for the whole grace are destroyed, as the
 * keep-alive timeout would.
 */
function drainKeepAliveGently(server: Server): void {
  const closeIdleConnections = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    setTimeout(closeIdleConnections, KEEP_ALIVE_DRAIN_MS).unref();
  };
}
