import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { MAX_EXERCISE_DEPTH } from '../cache/context-rules';

/**
 * Deepest JSON body accepted. Bodies are rejected before parsing when nested deeper: the
 * validation layer (class-transformer) copies a body recursively and overflows the stack at a few
 * thousand levels, which a 256 KB body can easily reach. Bodies up to this depth reach the DTOs,
 * which give the precise rule for the exercise (at most MAX_EXERCISE_DEPTH levels).
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = new Set([0x7b, 0x5b]); // { [
const CLOSE = new Set([0x7d, 0x5d]); // } ]

/** True when the JSON text opens more than `limit` objects/arrays at once; one pass, no parse. */
export function nestsDeeperThan(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (OPEN.has(byte)) {
      if (++depth > limit) return true;
    } else if (CLOSE.has(byte)) {
      depth--;
    }
  }
  return false;
}

function clientError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

/**
 * The API speaks JSON only: application/json bodies are parsed by Fastify's own parser (with its
 * prototype-poisoning protection) after the depth check above; any other content type, including
 * the form and text bodies Nest and Fastify would otherwise parse into strings or flat objects,
 * is a 415 that says what to send.
 */
export function acceptJsonBodiesOnly(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('text/plain');
  app.useBodyParser('application/json', { bodyLimit }, (request: FastifyRequest, body: Buffer, done) => {
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      done(
        clientError(400, `request body is nested more than ${MAX_JSON_DEPTH} levels deep; exercise may nest at most ${MAX_EXERCISE_DEPTH} levels`),
        undefined,
      );
      return;
    }
    parseJson(request, body as unknown as string, done);
  });
  app.useBodyParser('*', { bodyLimit }, (request: FastifyRequest, _body: Buffer, done) => {
    const given = String(request.headers['content-type'] ?? '(none)').slice(0, 100);
    done(clientError(415, `unsupported Content-Type ${given}: send the body as JSON with Content-Type: application/json`), undefined);
  });
}
