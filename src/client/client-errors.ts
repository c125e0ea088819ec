/** Every error the client throws; `status` is the HTTP status when the service answered. */
export class ExerciseCacheError extends Error {
  override name = 'ExerciseCacheError';
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 400: the request was invalid. `field` is the first field the service named ("context.difficulty"). */
export class ExerciseCacheBadRequestError extends ExerciseCacheError {
  override name = 'ExerciseCacheBadRequestError';
  readonly field?: string;
  readonly messages: string[];
  constructor(messages: string[], body: unknown) {
    super(messages.join('; ') || 'bad request', 400, body);
    this.messages = messages;
    this.field = messages.map(fieldOf).find((field) => field !== undefined);
  }
}

/** 401: the API key is missing or unknown. */
export class ExerciseCacheUnauthorizedError extends ExerciseCacheError {
  override name = 'ExerciseCacheUnauthorizedError';
}

/** 403: the API key is valid but read-only (writes, deletes and maintenance need a read-write key). */
export class ExerciseCacheForbiddenError extends ExerciseCacheError {
  override name = 'ExerciseCacheForbiddenError';
}

/** 409: the lease token expired and the lease went to another caller; nothing was stored. */
export class ExerciseCacheLeaseConflictError extends ExerciseCacheError {
  override name = 'ExerciseCacheLeaseConflictError';
}

/** 429 after every retry: the rate limit still refused the call. */
export class ExerciseCacheRateLimitedError extends ExerciseCacheError {
  override name = 'ExerciseCacheRateLimitedError';
}

/** 503 after every retry, or the service could not be reached at all (then `status` is undefined). */
export class ExerciseCacheUnavailableError extends ExerciseCacheError {
  override name = 'ExerciseCacheUnavailableError';
}

/** The call did not finish within `timeoutMs`. */
export class ExerciseCacheTimeoutError extends ExerciseCacheError {
  override name = 'ExerciseCacheTimeoutError';
}

/** "context.type must be ..." -> "context.type"; "exercise.a: the key ..." -> "exercise.a". */
function fieldOf(message: string): string | undefined {
  const match = /^([A-Za-z_$][\w$]*(?:\.[^\s:.]+)*)(?::|\s)/.exec(message);
  return match?.[1];
}

/** The typed error for a non-2xx answer the client does not handle itself. */
export function errorForResponse(status: number, body: unknown): ExerciseCacheError {
  const message = messageOf(body) ?? `HTTP ${status}`;
  switch (status) {
    case 400:
      return new ExerciseCacheBadRequestError(messagesOf(body), body);
    case 401:
      return new ExerciseCacheUnauthorizedError(message, status, body);
    case 403:
      return new ExerciseCacheForbiddenError(message, status, body);
    case 409:
      return new ExerciseCacheLeaseConflictError(message, status, body);
    case 429:
      return new ExerciseCacheRateLimitedError(message, status, body);
    case 503:
      return new ExerciseCacheUnavailableError(message, status, body);
    default:
      return new ExerciseCacheError(message, status, body);
  }
}

function messagesOf(body: unknown): string[] {
  const message = (body as { message?: unknown } | null)?.message;
  if (Array.isArray(message)) return message.map(String);
  return typeof message === 'string' ? [message] : [];
}

function messageOf(body: unknown): string | undefined {
  const messages = messagesOf(body);
  return messages.length > 0 ? messages.join('; ') : undefined;
}
