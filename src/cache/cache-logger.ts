/**
 * Where the cache core reports what it does. Nest's Logger and LoggerService fit it (the second
 * argument is the context, the name of the part that logs), and so does `console`.
 */
export interface CacheLogger {
  log(message: string, context?: string): void;
  warn(message: string, context?: string): void;
  error(message: string, context?: string): void;
  debug?(message: string, context?: string): void;
}

/** The default outside Nest: warnings and errors on stderr, routine messages dropped. */
export const consoleCacheLogger: CacheLogger = {
  log: () => undefined,
  warn: (message, context) => console.warn(`[exercise-cache]${context ? ` ${context}:` : ''} ${message}`),
  error: (message, context) => console.error(`[exercise-cache]${context ? ` ${context}:` : ''} ${message}`),
};

export const silentCacheLogger: CacheLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** One part's view of the logger: every line carries the part's name as its context. */
export interface ScopedLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function scopedLogger(logger: CacheLogger, context: string): ScopedLogger {
  return {
    log: (message) => logger.log(message, context),
    warn: (message) => logger.warn(message, context),
    error: (message) => logger.error(message, context),
  };
}
