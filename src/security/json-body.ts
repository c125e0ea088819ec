import { BadRequestException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { MAX_EXERCISE_DEPTH } from '../cache/context-rules';
import { forbiddenKeyMessage } from '../common/prototype-named-keys';
import { duplicateKeyMessage, scanJsonText } from './json-text-scan';

/**
 * Deepest JSON body accepted. Bodies are rejected before parsing when nested deeper: the
 * validation layer (class-transformer) copies a body recursively and overflows the stack at a few
 * thousand levels, which a 256 KB body can easily reach. Bodies up to this depth reach the DTOs,
 * which give the precise rule for the exercise (at most MAX_EXERCISE_DEPTH levels).
 */
export const MAX_JSON_DEPTH = 64;

/** True when the JSON text opens more than `limit` objects/arrays at once; one pass, no parse. */
export function nestsDeeperThan(body: Buffer, limit: number): boolean {
  return scanJsonText(body, limit).tooDeep;
}

function clientError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

function fieldError(message: string): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [message] });
}

/**
 * Compressed request bodies are not accepted: decoding them would need its own size limit on the
 * decoded text, and clients of this API send small JSON. A body labelled with any encoding other
 * than identity is answered 415 instead of being read as if it were plain.
 */
function unsupportedEncoding(request: FastifyRequest): Error | undefined {
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined || String(encoding).trim().toLowerCase() === 'identity') return undefined;
  return clientError(415, `unsupported Content-Encoding ${String(encoding).slice(0, 100)}: send the request body uncompressed`);
}

/**
 * The API speaks JSON only: application/json bodies are parsed by Fastify's own parser (with its
 * prototype-poisoning protection) after the depth check above; any other content type, including
 * the form and text bodies Nest and Fastify would otherwise parse into strings or flat objects,
 * is a 415 that says what to send. JSON.parse keeps only the last of duplicate keys, which would
 * store something other than what was sent: a duplicate key is a 400 naming it.
 */
export function acceptJsonBodiesOnly(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('text/plain');
  app.useBodyParser('application/json', { bodyLimit }, (request: FastifyRequest, body: Buffer, done) => {
    const encodingError = unsupportedEncoding(request);
    if (encodingError) return done(encodingError, undefined);
    const scan = scanJsonText(body, MAX_JSON_DEPTH);
    if (scan.tooDeep) {
      done(
        clientError(400, `request body is nested more than ${MAX_JSON_DEPTH} levels deep; exercise may nest at most ${MAX_EXERCISE_DEPTH} levels`),
        undefined,
      );
      return;
    }
    parseJson(request, body as unknown as string, (error, value) => {
      if (error) return done(prototypePoisoningError(body) ?? error, undefined);
      if (scan.duplicateKey) return done(fieldError(duplicateKeyMessage(scan.duplicateKey)), undefined);
      done(null, value);
    });
  });
  app.useBodyParser('*', { bodyLimit }, (request: FastifyRequest, _body: Buffer, done) => {
    const encodingError = unsupportedEncoding(request);
    if (encodingError) return done(encodingError, undefined);
    const given = String(request.headers['content-type'] ?? '(none)').slice(0, 100);
    done(clientError(415, `unsupported Content-Type ${given}: send the body as JSON with Content-Type: application/json`), undefined);
  });
}

/**
 * Fastify's parser refuses "__proto__" and "constructor.prototype" with its generic "Body is not
 * valid JSON". When the text is valid JSON after all, the refusal names the key, as the
 * validation pipe does for the same keys. Runs only for a body Fastify already refused.
 */
function prototypePoisoningError(body: Buffer): BadRequestException | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const message = forbiddenKeyMessage(value);
  return message ? fieldError(message) : undefined;
}
