import { STATUS_CODES } from 'node:http';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, LoggerService } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { InvalidCacheRequestError } from '../cache/context-rules';
import { isStorageUnavailable } from './storage-unavailable';

/**
 * The one place errors become responses: HTTP exceptions keep their status and message, an
 * unreachable database is a 503, anything else is a logged 500 with a generic message and no
 * stack trace for the client. Every 4xx body has one shape: {statusCode, error, message}, with
 * the HTTP reason phrase as `error`, whether Nest, Fastify or this service raised it.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(private readonly logger: LoggerService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status: number;
    let body: unknown;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      body = httpExceptionBody(status, exception.getResponse());
    } else if (isClientAbort(exception)) {
      // The client went away mid-body: nothing to answer, and not a fault of ours or the database's.
      status = 400;
      body = clientErrorBody(status, 'request aborted by the client');
      this.logger.log('client closed the connection before sending the whole request body', AllExceptionsFilter.name);
    } else if (exception instanceof InvalidCacheRequestError) {
      status = HttpStatus.BAD_REQUEST;
      body = httpExceptionBody(status, exception.getResponse());
    } else if (isStorageUnavailable(exception)) {
      status = HttpStatus.SERVICE_UNAVAILABLE;
      body = { statusCode: status, error: 'Service Unavailable', message: 'cache storage unavailable' };
      this.logger.warn(`database unavailable: ${(exception as Error).message}`, AllExceptionsFilter.name);
    } else if (isFastifyClientError(exception)) {
      status = exception.statusCode;
      body = clientErrorBody(status, exception.message);
    } else {
      status = HttpStatus.INTERNAL_SERVER_ERROR;
      body = { statusCode: status, error: 'Internal Server Error', message: 'internal server error' };
      this.logger.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception), AllExceptionsFilter.name);
    }
    if (!reply.sent) void reply.status(status).send(body);
  }
}

/** {statusCode, error, message} with the HTTP reason phrase ("Bad Request", "Unsupported Media Type"). */
export function clientErrorBody(status: number, message: unknown): { statusCode: number; error: string; message: unknown } {
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
}

function httpExceptionBody(status: number, response: string | object): unknown {
  if (typeof response === 'string') return clientErrorBody(status, response);
  const fields = response as { statusCode?: unknown; error?: unknown; message?: unknown };
  if (status >= 500) return response;
  return { ...fields, ...clientErrorBody(status, fields.message ?? STATUS_CODES[status]) };
}

/** Node's error for a request whose client closed the connection before the body ended. */
function isClientAbort(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ECONNRESET' && message === 'aborted';
}

/** Fastify's own 4xx errors (malformed JSON, body too large, bad content type) carry statusCode. */
function isFastifyClientError(error: unknown): error is { statusCode: number; message: string } {
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500;
}
