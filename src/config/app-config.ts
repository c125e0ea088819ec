import { Transform, plainToInstance } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';
import { MAX_ENTRIES_LIMIT, MAX_GENERATION_COST, MAX_TTL_SECONDS, MAX_VARIANTS } from '../cache/context-rules';
import { IsCronExpression, IsPostgresUrl, IsTimeZone } from './config-validators';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};

/**
 * Every setting of the service, read once from the environment at boot. A field's initialiser is
 * its default; the README's configuration table lists the same names and defaults.
 */
export class AppConfig {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  /** Unset: the service starts its own embedded PostgreSQL. */
  @IsOptional() @IsPostgresUrl()
  DATABASE_URL?: string;

  /** PostgreSQL schema holding every object of the cache and its migration records. */
  @IsString() @Matches(/^(?!pg_)[a-z_][a-z0-9_]{0,62}$/, {
    message: 'DATABASE_SCHEMA must be 1..63 characters of a-z, 0-9 and "_", starting with a letter or "_" (not "pg_")',
  })
  DATABASE_SCHEMA = 'public';

  /**
   * A direct PostgreSQL connection for what needs one session (LISTEN, session advisory locks,
   * migrations) when DATABASE_URL goes through a transaction-mode pooler such as PgBouncer.
   * Unset: DATABASE_URL serves both.
   */
  @IsOptional() @IsPostgresUrl()
  DATABASE_DIRECT_URL?: string;

  /**
   * Named prepared statements on the hot path. "auto": on, unless DATABASE_URL turns out to be a
   * transaction-mode pooler (which cannot keep them across transactions before PgBouncer 1.21).
   */
  @Transform(toBool) @IsIn([true, false, 'auto'], { message: 'DATABASE_PREPARED_STATEMENTS must be true, false or auto' })
  DATABASE_PREPARED_STATEMENTS: boolean | 'auto' = 'auto';

  /** At least 2: a maintenance job holds one connection for its advisory lock and queries on another. */
  @Transform(toInt) @IsInt() @Min(2) @Max(200)
  DATABASE_POOL_SIZE = 10;

  @Transform(toInt) @IsInt() @Min(100) @Max(600000)
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  @Transform(toInt) @IsInt() @Min(100) @Max(600000)
  DATABASE_CONNECT_TIMEOUT_MS = 2000;

  @IsString()
  EMBEDDED_PG_DIR = '.data/postgres';

  @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  EMBEDDED_PG_PORT = 54329;

  @Transform(toBool) @IsBoolean()
  MIGRATE_ON_START = true;

  @Transform(toInt) @IsInt() @Min(1) @Max(MAX_TTL_SECONDS)
  CACHE_DEFAULT_TTL_SECONDS = 86400;

  @Transform(toNumber) @IsNumber() @Min(0) @Max(MAX_GENERATION_COST)
  CACHE_DEFAULT_GENERATION_COST = 0.003;

  @Transform(toInt) @IsInt() @Min(1) @Max(MAX_ENTRIES_LIMIT)
  MAX_ENTRIES = 10000;

  @Transform(toInt) @IsInt() @Min(1) @Max(MAX_VARIANTS)
  VARIANTS_PER_CONTEXT = 1;

  /** getOrGenerate serves an entry expired at most this long ago when generate() fails (0: never). */
  @Transform(toInt) @IsInt() @Min(0) @Max(MAX_TTL_SECONDS)
  STALE_IF_ERROR_SECONDS = 0;

  /**
   * Entries written without their own staleWhileRevalidateSeconds may be served stale this long
   * after expiring while one caller regenerates them in the background (0: never).
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(MAX_TTL_SECONDS)
  STALE_WHILE_REVALIDATE_SECONDS = 0;

  /** Run LRU eviction after every this many writes on a replica, between scheduled evictions. */
  @Transform(toInt) @IsInt() @Min(0) @Max(10_000_000)
  EVICT_EVERY_WRITES = 1000;

  @Transform(toBool) @IsBoolean()
  L1_ENABLED = true;

  @Transform(toInt) @IsInt() @Min(1) @Max(10_000_000)
  L1_MAX_ENTRIES = 10000;

  @Transform(toInt) @IsInt() @Min(1024) @Max(8 * 1024 * 1024 * 1024)
  L1_MAX_BYTES = 64 * 1024 * 1024;

  @Transform(toInt) @IsInt() @Min(10) @Max(60000)
  USAGE_FLUSH_INTERVAL_MS = 1000;

  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  USAGE_FLUSH_MAX_EVENTS = 1000;

  /**
   * Rows (cache keys plus day/type/difficulty outcomes) the usage buffer holds while writes fail;
   * lookups that would need more are served but not counted.
   */
  @Transform(toInt) @IsInt() @Min(2) @Max(10_000_000)
  USAGE_BUFFER_MAX_ROWS = 100_000;

  /** How long a caller waits for another replica that is generating the same exercise. */
  @Transform(toInt) @IsInt() @Min(0) @Max(600000)
  SINGLE_FLIGHT_WAIT_MS = 30000;

  @Transform(toBool) @IsBoolean()
  CLEANUP_ENABLED = true;

  @IsCronExpression()
  CLEANUP_CRON = '0 3 * * *';

  @Transform(toBool) @IsBoolean()
  EVICT_ENABLED = true;

  @IsCronExpression()
  EVICT_CRON = '0 4 * * *';

  @Transform(toBool) @IsBoolean()
  REFRESH_ENABLED = true;

  @IsCronExpression()
  REFRESH_CRON = '0 5 * * *';

  @IsTimeZone()
  MAINTENANCE_TIMEZONE = 'UTC';

  /** /health fails when active entries exceed MAX_ENTRIES by more than this percentage. */
  @Transform(toInt) @IsInt() @Min(0) @Max(1000)
  HEALTH_SIZE_TOLERANCE_PERCENT = 10;

  @Transform(toInt) @IsInt() @Min(50) @Max(60000)
  HEALTH_DB_TIMEOUT_MS = 1000;

  /** Comma-separated; a key ending in ":ro" is read-only. Unset: no authentication (not in production). */
  @IsOptional() @IsString() @Matches(/^[^,\s]+(,[^,\s]+)*$/, { message: 'API_KEYS must be a comma-separated list of keys without spaces' })
  API_KEYS?: string;

  @IsOptional() @IsString()
  METRICS_TOKEN?: string;

  @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000)
  RATE_LIMIT_WINDOW_MS = 60000;

  @Transform(toInt) @IsInt() @Min(0) @Max(100_000_000)
  RATE_LIMIT_MAX = 100000;

  @Transform(toInt) @IsInt() @Min(1024) @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES = 256 * 1024;

  @IsOptional() @IsString()
  CORS_ORIGINS?: string;

  /**
   * Behind a load balancer: "true" (trust X-Forwarded-For from any hop) or comma-separated proxy
   * addresses/CIDRs. Unset: the socket address is the client (rate limits
   * per IP would otherwise count every client behind the proxy as one).
   */
  @IsOptional() @IsString() @Matches(/^(true|false|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/, {
    message: 'TRUST_PROXY must be true, false, or comma-separated proxy addresses or CIDRs',
  })
  TRUST_PROXY?: string;

  /** Folder of `<type>.schema.json` files (JSON Schema draft 2020-12); unset: exercises are not checked against schemas. */
  @IsOptional() @IsString()
  EXERCISE_SCHEMAS_DIR?: string;

  /** Reports (from distinct reporters) that put an entry in quarantine. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  QUARANTINE_AFTER_REPORTS = 1;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsOptional() @Transform(toBool) @IsBoolean()
  LOG_PRETTY?: boolean;

  @Transform(toInt) @IsInt() @Min(100) @Max(120000)
  SHUTDOWN_TIMEOUT_MS = 10000;
}

export class ConfigValidationError extends Error {}

/** TRUST_PROXY in the form Fastify's trustProxy option takes. */
export function trustProxyOf(config: AppConfig): boolean | string {
  const value = config.TRUST_PROXY;
  if (value === undefined || value === 'false') return false;
  return value === 'true' ? true : value;
}

/** Builds the typed configuration or throws one line naming the variable and what is wrong. */
export function validateConfig(env: Record<string, unknown>, options: { serving: boolean } = { serving: true }): AppConfig {
  const known = Object.keys(new AppConfig());
  const relevant: Record<string, unknown> = {};
  for (const name of [...known, 'DATABASE_URL', 'DATABASE_DIRECT_URL', 'API_KEYS', 'METRICS_TOKEN', 'CORS_ORIGINS', 'TRUST_PROXY', 'LOG_PRETTY', 'EXERCISE_SCHEMAS_DIR']) {
    const value = env[name];
    if (value !== undefined && value !== '') relevant[name] = value;
  }
  const config = plainToInstance(AppConfig, relevant);
  const errors = validateSync(config, { skipMissingProperties: false });
  if (errors.length > 0) {
    const first = errors[0];
    // Decorators register bottom-up, so the last failed constraint is the outermost one, the type
    // check: "abc" is reported as not an integer rather than as out of range.
    const reason = Object.values(first.constraints ?? {}).at(-1) ?? 'is invalid';
    const shown = ['DATABASE_URL', 'DATABASE_DIRECT_URL', 'API_KEYS', 'METRICS_TOKEN'].includes(first.property)
      ? '(value hidden)'
      : JSON.stringify(first.value);
    throw new ConfigValidationError(`Invalid configuration: ${first.property}=${shown}: ${reason}`);
  }
  // Only a process that serves HTTP needs keys; migrate, rollback and the CLI have no HTTP side.
  if (options.serving && config.NODE_ENV === 'production' && !config.API_KEYS) {
    throw new ConfigValidationError(
      'Invalid configuration: API_KEYS is required when NODE_ENV=production (comma-separated keys; add ":ro" for read-only)',
    );
  }
  return config;
}
