import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';

/** The application's one pino logger: Nest's logs (through nestjs-pino) and the request log. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

function createRootLogger(config: AppConfig): Logger {
  const pretty = config.LOG_PRETTY ?? config.NODE_ENV === 'development';
  if (pretty) return pino({ level: config.LOG_LEVEL, transport: { target: 'pino-pretty', options: { singleLine: true } } });
  // JSON lines through an asynchronous writer, which coalesces lines written while a write is in
  // flight instead of blocking the request path. pino flushes it at exit.
  return pino({ level: config.LOG_LEVEL }, pino.destination({ dest: 1, sync: false }));
}

/**
 * Structured JSON logs. Nest's logger is nestjs-pino's, on the root logger below. Requests are
 * logged by Fastify hooks (see request-logging.ts) rather than nestjs-pino's pino-http middleware:
 * that middleware runs through Nest's Express-style middleware layer and an AsyncLocalStorage
 * context per request, which makes a cache hit cost more CPU (`npm run bench -- --without
 * request-log` runs the service with the middleware beside it).
 */
@Global()
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    const logger = createRootLogger(config);
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger }, forRoutes: [] })],
      providers: [{ provide: ROOT_LOGGER, useValue: logger }],
      exports: [ROOT_LOGGER],
    };
  }
}
