import { randomUUID } from 'node:crypto';
import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { AppConfig } from '../config/app-config';

const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Structured JSON logs with a request id per request (taken from X-Request-Id when the caller
 * sends a sane one). Headers that carry secrets and bodies (exercise payloads) are never logged.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    const pretty = config.LOG_PRETTY ?? config.NODE_ENV === 'development';
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          // nestjs-pino's default route pattern ('{/*splat}') matches nothing under
          // @nestjs/platform-fastify 12, which silently dropped every request log line.
          forRoutes: [{ path: '/{*splat}', method: RequestMethod.ALL }],
          pinoHttp: [
            {
            level: config.LOG_LEVEL,
            transport: pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
            genReqId: (req, res) => {
              const given = req.headers[REQUEST_ID_HEADER];
              const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
              res.setHeader(REQUEST_ID_HEADER, id);
              return id;
            },
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
            redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
            autoLogging: { ignore: (req) => req.url === '/health/live' || req.url === '/health/ready' },
            customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
            },
            // JSON logs go through an asynchronous writer, which coalesces lines written while a
            // write is in flight instead of blocking the request path. pino flushes it at exit.
            pretty ? pino.destination(1) : pino.destination({ dest: 1, sync: false }),
          ],
        }),
      ],
    };
  }
}
