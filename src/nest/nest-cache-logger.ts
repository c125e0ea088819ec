import { Logger } from '@nestjs/common';
import type { CacheLogger } from '../cache/cache-logger';

/** The cache core's log lines through Nest's Logger, so they reach whatever logger the host app set. */
export function nestCacheLogger(): CacheLogger {
  const loggers = new Map<string, Logger>();
  const loggerFor = (context = 'ExerciseCache') => {
    let logger = loggers.get(context);
    if (!logger) loggers.set(context, (logger = new Logger(context)));
    return logger;
  };
  return {
    log: (message, context) => loggerFor(context).log(message),
    warn: (message, context) => loggerFor(context).warn(message),
    error: (message, context) => loggerFor(context).error(message),
    debug: (message, context) => loggerFor(context).debug(message),
  };
}
