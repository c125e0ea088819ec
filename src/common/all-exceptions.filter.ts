import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, LoggerService } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { StorageUnavailableError, isStorageUnavailable } from './storage-unavailable';

/**
 * The one place errors become responses: HTTP exceptions keep their status and message, an
 * unreachable database is a 503, anything else is a logged 500 with a generic message and no
 * stack trace for the client.
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
      const response = exception.getResponse();
      body = typeof response === 'string' ? { statusCode: status, message: response } : response;
    } else if (isStorageUnavailable(exception)) {
      const unavailable = new StorageUnavailableError(String(exception));
      status = unavailable.getStatus();
      body = unavailable.getResponse();
      this.logger.warn(`database unavailable: ${(exception as Error).message}`, AllExceptionsFilter.name);
    } else if (isFastifyClientError(exception)) {
      status = exception.statusCode;
      body = { statusCode: status, error: HttpStatus[status] ?? 'Error', message: exception.message };
    } else {
      status = HttpStatus.INTERNAL_SERVER_ERROR;
      body = { statusCode: status, error: 'Internal Server Error', message: 'internal server error' };
      this.logger.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception), AllExceptionsFilter.name);
    }
    if (!reply.sent) void reply.status(status).send(body);
  }
}

/** Fastify's own 4xx errors (malformed JSON, body too large, bad content type) carry statusCode. */
function isFastifyClientError(error: unknown): error is { statusCode: number; message: string } {
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500;
}
