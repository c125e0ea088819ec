import {
  ExerciseCacheError,
  ExerciseCacheTimeoutError,
  ExerciseCacheUnavailableError,
  errorForResponse,
} from './client-errors';
import type { ClientLogger } from './client-types';

export interface TransportOptions {
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  retries: number;
  logger?: ClientLogger;
}

export interface Call {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | readonly string[] | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Added to the per-call timeout: a lease wait may keep the answer back this long on purpose. */
  extraTimeoutMs?: number;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Backoff between retries without Retry-After: 100 ms doubling, at most 2 s, with jitter. */
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 2000;
/** A Retry-After longer than this is not waited out: the call fails with its typed error instead. */
const MAX_RETRY_AFTER_MS = 30000;

/**
 * One HTTP call with the client's rules: a timeout per attempt (AbortSignal.timeout), retries of
 * 429 and 503 answers (and of failed connections for GET and DELETE, which are safe to repeat)
 * with a bounded backoff that honours Retry-After. Other statuses are returned as they are.
 */
export class HttpTransport {
  private readonly baseUrl: string;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async send(call: Call): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      let answer: Answer;
      try {
        answer = await this.attempt(call);
      } catch (error) {
        const retryable = error instanceof ExerciseCacheUnavailableError && call.method !== 'POST';
        if (!retryable || attempt >= this.options.retries) throw error;
        await sleep(backoff(attempt));
        continue;
      }
      if ((answer.status !== 429 && answer.status !== 503) || attempt >= this.options.retries) return answer;
      const retryAfterMs = retryAfterOf(answer.headers);
      if (retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS) return answer;
      const delay = retryAfterMs ?? backoff(attempt);
      this.options.logger?.warn(`exercise-cache answered ${answer.status}; retrying in ${delay} ms`, { path: call.path, attempt: attempt + 1 });
      await sleep(delay);
    }
  }

  /** send(), then a typed error for any status outside `expected`. */
  async expect(call: Call, expected: readonly number[]): Promise<Answer> {
    const answer = await this.send(call);
    if (!expected.includes(answer.status)) throw errorForResponse(answer.status, answer.body);
    return answer;
  }

  private async attempt(call: Call): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = this.options.timeoutMs + (call.extraTimeoutMs ?? 0);
    let response: Response;
    try {
      response = await fetch(this.urlOf(call), {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (isTimeout(error)) throw new ExerciseCacheTimeoutError(`${call.method} ${call.path} took longer than ${timeoutMs} ms`, undefined, undefined, { cause: error });
      throw new ExerciseCacheUnavailableError(`exercise-cache unreachable at ${this.baseUrl}: ${causeOf(error)}`, undefined, undefined, { cause: error });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (isTimeout(error)) throw new ExerciseCacheTimeoutError(`${call.method} ${call.path} took longer than ${timeoutMs} ms`, undefined, undefined, { cause: error });
      throw new ExerciseCacheUnavailableError(`exercise-cache connection lost: ${causeOf(error)}`, undefined, undefined, { cause: error });
    }
    let body: unknown = text;
    if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new ExerciseCacheError(`exercise-cache sent invalid JSON (HTTP ${response.status})`, response.status, text);
      }
    }
    return { status: response.status, headers: response.headers, body };
  }

  private urlOf(call: Call): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value) params.append(name, item);
      else params.append(name, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${call.path}${search ? `?${search}` : ''}`;
  }
}

function backoff(attempt: number): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** Retry-After in seconds (what the service sends) or as an HTTP date. */
export function retryAfterOf(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
