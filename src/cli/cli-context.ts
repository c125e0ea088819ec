import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { ignoreConnectionErrors } from '../database/checked-out-client';
import { AppConfig, validateConfig } from '../config/app-config';
import { DatabaseHandle, openDatabase } from '../database/database-handle';
import { holdsCacheEntries } from '../database/migrations';
import { CliModule } from './cli.module';

export interface ApplicationOptions {
  /** Database and service log lines on stderr. */
  verbose: boolean;
}

/**
 * The service's configuration for a one-shot command: no local L1 cache (nothing to reuse it, and
 * no LISTEN connection needed; writes still notify the running replicas) and no scheduled jobs.
 */
export function cliConfig(env: NodeJS.ProcessEnv): AppConfig {
  return validateConfig({
    ...env,
    L1_ENABLED: 'false',
    CLEANUP_ENABLED: 'false',
    EVICT_ENABLED: 'false',
    REFRESH_ENABLED: 'false',
  }, { serving: false });
}

/** Service logs for --verbose: on stderr, so that stdout stays the command's output. */
const stderrLogger: LoggerService = {
  log: (message: unknown, context?: string) => writeLog('log', message, context),
  warn: (message: unknown, context?: string) => writeLog('warn', message, context),
  error: (message: unknown, ...rest: unknown[]) => writeLog('error', message, rest.find((r) => typeof r === 'string') as string | undefined),
};

function writeLog(level: string, message: unknown, context?: string): void {
  process.stderr.write(`${level}${context ? ` [${context}]` : ''} ${message instanceof Error ? message.message : String(message)}\n`);
}

/** Boots the services on the configured database, runs `action`, and always shuts down cleanly. */
export async function withApplication<T>(options: ApplicationOptions, action: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = cliConfig(process.env);
  const log = options.verbose ? (line: string) => process.stderr.write(`${line}\n`) : () => undefined;
  const database = await openCliDatabase(config, log);
  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(CliModule.forRoot(config, database), {
      logger: options.verbose ? stderrLogger : false,
      abortOnError: false,
    });
    return await action(app);
  } finally {
    // close() runs the shutdown hooks: buffered usage counters are written before the pool ends.
    await app?.close();
    await database.embedded?.stop();
  }
}

/**
 * DATABASE_URL when set. Otherwise the embedded PostgreSQL, like `npm start`: if the service is
 * running on it, the CLI connects to that server (it cannot start a second one on the same data);
 * if not, it starts it for the duration of the command.
 */
async function openCliDatabase(config: AppConfig, log: (line: string) => void): Promise<DatabaseHandle> {
  if (!config.DATABASE_URL) {
    const url = `postgresql://postgres@127.0.0.1:${config.EMBEDDED_PG_PORT}/exercise_cache`;
    if (await isMigratedCache(url, config.DATABASE_SCHEMA)) {
      log(`using the embedded PostgreSQL already running on 127.0.0.1:${config.EMBEDDED_PG_PORT}`);
      return { url, schema: config.DATABASE_SCHEMA };
    }
  }
  return openDatabase(config, log);
}

/** A server answers on `url` and its `schema` holds the cache (false when nothing answers). */
async function isMigratedCache(url: string, schema: string): Promise<boolean> {
  const client = ignoreConnectionErrors(new Client({ connectionString: url, connectionTimeoutMillis: 1000 }));
  try {
    await client.connect();
    return await holdsCacheEntries(client, schema);
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
