/**
 * Preloaded (node -r) into a service the bench starts with `--without`: before the service's
 * main.js runs, it puts back the plain Nest (or library) way for each workaround named in
 * BENCH_WITHOUT, in the build at BENCH_PRODUCT_DIST, so one run measures the service with and
 * without it. The product never reads these variables: only this bench file does.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { RequestMethod } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { LoggerModule, Params } from 'nestjs-pino';
import { loadFromBuild } from './product-build';
import { WORKAROUNDS, Workaround, isWorkaround } from './workarounds';

/** Replaces an export of a product module, which the product reads at call time (CommonJS). */
function replaceExport(module: object, name: string, replacement: unknown): void {
  if (!Object.hasOwn(module, name)) throw new Error(`the build no longer exports ${name}: update bench/workaround-switches.ts`);
  Object.assign(module, { [name]: replacement });
}

function withoutFastParse(dist: string): void {
  const dtoDir = path.join(dist, 'cache', 'dto');
  let replaced = 0;
  for (const file of readdirSync(dtoDir).filter((name) => name.endsWith('.js'))) {
    for (const exported of Object.values(loadFromBuild<Record<string, unknown>>(dtoDir, file))) {
      if (typeof exported === 'function' && Object.hasOwn(exported, 'fastParse')) {
        // The pipe still asks, and is told to use the class-validator rules.
        Object.defineProperty(exported, 'fastParse', { value: () => undefined });
        replaced += 1;
      }
    }
  }
  if (replaced === 0) throw new Error(`no DTO in ${dtoDir} has fastParse: update bench/workaround-switches.ts`);
}

function withoutRequestLogHooks(dist: string): void {
  const logging = loadFromBuild<typeof import('../src/logging/request-logging')>(dist, 'logging/request-logging');
  const quietRoutes = new Set(['/health/live', '/health/ready']);
  // The X-Request-Id header stays a hook; the log line moves to pino-http, with the same fields.
  replaceExport(logging, 'addRequestLogging', (app: NestFastifyApplication) => {
    app.getHttpAdapter().getInstance().addHook('onRequest', (request, reply, done) => {
      void reply.header('x-request-id', request.id);
      done();
    });
  });
  const forRoot = LoggerModule.forRoot.bind(LoggerModule);
  const pinoHttpForAllRoutes = (params?: Params) => {
    const pinoHttp = (params?.pinoHttp ?? {}) as Record<string, unknown>;
    return forRoot({
      pinoHttp: {
        ...pinoHttp,
        genReqId: (req: IncomingMessage) => (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
        serializers: {
          req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
          res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
        customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
          error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        autoLogging: { ignore: (req: IncomingMessage & { originalUrl?: string }) => quietRoutes.has((req.originalUrl ?? req.url ?? '').split('?')[0]) },
      },
      // nestjs-pino's default route pattern ({/*splat}) reaches no route on Nest 12 with Fastify.
      forRoutes: [{ path: '*', method: RequestMethod.ALL }],
    });
  };
  Object.assign(LoggerModule, { forRoot: pinoHttpForAllRoutes });
}

function withoutFixedWindowStorage(dist: string): void {
  const storage = loadFromBuild<typeof import('../src/security/fixed-window-storage')>(dist, 'security/fixed-window-storage');
  replaceExport(storage, 'FixedWindowStorage', ThrottlerStorageService);
}

const SWITCHES: Record<Workaround, (dist: string) => void> = {
  'fast-parse': withoutFastParse,
  'request-log': withoutRequestLogHooks,
  'throttler-storage': withoutFixedWindowStorage,
};

const without = (process.env.BENCH_WITHOUT ?? '').split(',').filter(Boolean);
const productDist = process.env.BENCH_PRODUCT_DIST;
if (without.length > 0 && productDist) {
  for (const name of without) {
    if (!isWorkaround(name)) throw new Error(`BENCH_WITHOUT names an unknown workaround: ${name}`);
    SWITCHES[name](productDist);
    process.stderr.write(`bench: ${name} switched off: ${WORKAROUNDS[name]}\n`);
  }
}
