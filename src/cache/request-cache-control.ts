import { InvalidCacheRequestError } from './context-rules';

/** The RFC 9111 request directives a lookup honours; unknown directives are ignored, as the RFC says. */
export interface RequestCacheControl {
  /** Do not answer from the stored entry (a miss, counted as one). */
  noCache: boolean;
  /** Only an entry at most this many seconds old may answer. */
  maxAge?: number;
  /** Answer from the cache or 504, never a miss to generate. */
  onlyIfCached: boolean;
  /**
   * max-stale: an expired entry may answer, up to this many seconds past its expiry, or (`true`,
   * max-stale without a value) within the stale grace it was stored with.
   */
  maxStale?: number | true;
}

/** RFC 9111 1.2.2: a delta-seconds value too large to represent is taken as 2^31. */
const MAX_DELTA_SECONDS = 2_147_483_647;

const DELTA_SECONDS = /^\d{1,10}$/;

/** Parses a request's Cache-Control header; undefined when it names nothing a lookup honours. */
export function parseRequestCacheControl(header: string | string[] | undefined): RequestCacheControl | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  const control: RequestCacheControl = { noCache: false, onlyIfCached: false };
  let honoured = false;
  for (const part of text.split(',')) {
    const [rawName, ...rest] = part.split('=');
    const name = rawName.trim().toLowerCase();
    const value = rest.join('=').trim().replace(/^"(.*)"$/, '$1');
    if (name === 'no-cache') {
      control.noCache = honoured = true;
    } else if (name === 'only-if-cached') {
      control.onlyIfCached = honoured = true;
    } else if (name === 'max-age') {
      if (!DELTA_SECONDS.test(value)) throw new InvalidCacheRequestError('Cache-Control max-age must be a number of seconds (max-age=N)');
      const seconds = Number(value);
      // Several max-age values: the strictest wins.
      control.maxAge = control.maxAge === undefined ? seconds : Math.min(control.maxAge, seconds);
      honoured = true;
    } else if (name === 'max-stale') {
      if (rest.length === 0) {
        control.maxStale ??= true;
      } else {
        if (!DELTA_SECONDS.test(value)) throw new InvalidCacheRequestError('Cache-Control max-stale must be a number of seconds (max-stale=N) or stand alone');
        // Several max-stale values: the strictest wins (a bare max-stale is the loosest).
        const seconds = Math.min(Number(value), MAX_DELTA_SECONDS);
        control.maxStale = control.maxStale === undefined || control.maxStale === true ? seconds : Math.min(control.maxStale, seconds);
      }
      honoured = true;
    }
  }
  return honoured ? control : undefined;
}

/** Seconds since the entry was stored (the Age header). */
export const ageSecondsOf = (createdAt: Date, now = Date.now()): number => Math.max(0, Math.floor((now - createdAt.getTime()) / 1000));

/** Seconds the entry stays fresh (Cache-Control max-age of a hit). */
export const secondsLeftOf = (expiresAt: Date, now = Date.now()): number => Math.max(0, Math.floor((expiresAt.getTime() - now) / 1000));

/** A strong validator of one stored version of an entry: its key and when it was stored. */
export const entityTagOf = (key: string, createdAt: Date): string => `"${key}.${createdAt.getTime().toString(36)}"`;

/** Whether If-None-Match names this tag (or "*"); weak comparison, as RFC 9110 asks for If-None-Match. */
export function ifNoneMatchHits(header: string | string[] | undefined, tag: string): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  return text.split(',').some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === tag;
  });
}
