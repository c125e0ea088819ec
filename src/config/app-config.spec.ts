import { AppConfig, ConfigValidationError, validateConfig } from './app-config';

/** The error validateConfig throws for `env`, or a failure when it does not throw. */
function rejectionOf(env: Record<string, string>): ConfigValidationError {
  try {
    validateConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return error as ConfigValidationError;
  }
  throw new Error(`validateConfig accepted ${JSON.stringify(env)}`);
}

describe(validateConfig.name, () => {
  describe('defaults', () => {
    it('gives every setting its default when the environment is empty', () => {
      const config = validateConfig({});
      expect(config).toBeInstanceOf(AppConfig);
      expect(config).toMatchObject({
        NODE_ENV: 'development',
        PORT: 3000,
        MAX_ENTRIES: 10000,
        CLEANUP_ENABLED: true,
        CLEANUP_CRON: '0 3 * * *',
        EVICT_ENABLED: true,
        EVICT_CRON: '0 4 * * *',
        REFRESH_ENABLED: true,
        REFRESH_CRON: '0 5 * * *',
        MAINTENANCE_TIMEZONE: 'UTC',
        HEALTH_SIZE_TOLERANCE_PERCENT: 10,
        HEALTH_DB_TIMEOUT_MS: 1000,
        SHUTDOWN_TIMEOUT_MS: 10000,
        USAGE_FLUSH_INTERVAL_MS: 1000,
      });
      expect(config.DATABASE_URL).toBeUndefined();
      expect(config.API_KEYS).toBeUndefined();
    });

    it('turns stale-while-revalidate off by default and refuses a window outside 0..2592000, naming it', () => {
      expect(validateConfig({}).STALE_WHILE_REVALIDATE_SECONDS).toBe(0);
      expect(validateConfig({ STALE_WHILE_REVALIDATE_SECONDS: '300' }).STALE_WHILE_REVALIDATE_SECONDS).toBe(300);
      expect(rejectionOf({ STALE_WHILE_REVALIDATE_SECONDS: '-1' }).message).toContain('STALE_WHILE_REVALIDATE_SECONDS');
      expect(rejectionOf({ STALE_WHILE_REVALIDATE_SECONDS: '2592001' }).message).toContain('STALE_WHILE_REVALIDATE_SECONDS');
    });

    it('treats an empty variable as unset', () => {
      expect(validateConfig({ MAX_ENTRIES: '', CLEANUP_CRON: '' })).toMatchObject({ MAX_ENTRIES: 10000, CLEANUP_CRON: '0 3 * * *' });
    });
  });

  describe('valid values', () => {
    it('converts numbers and booleans from their text', () => {
      const config = validateConfig({ MAX_ENTRIES: '500', CLEANUP_ENABLED: 'false', EVICT_ENABLED: '0', REFRESH_ENABLED: 'yes' });
      expect(config).toMatchObject({ MAX_ENTRIES: 500, CLEANUP_ENABLED: false, EVICT_ENABLED: false, REFRESH_ENABLED: true });
    });

    it('accepts cron expressions with seconds, a time zone and a PostgreSQL URL', () => {
      const config = validateConfig({
        CLEANUP_CRON: '*/5 * * * * *',
        MAINTENANCE_TIMEZONE: 'Europe/Berlin',
        DATABASE_URL: 'postgresql://app:secret@db.internal:5432/exercise_cache',
      });
      expect(config).toMatchObject({ CLEANUP_CRON: '*/5 * * * * *', MAINTENANCE_TIMEZONE: 'Europe/Berlin' });
    });

    it('reads the pooler settings: a direct URL for sessions and the prepared statements switch', () => {
      expect(validateConfig({})).toMatchObject({ DATABASE_DIRECT_URL: undefined, DATABASE_PREPARED_STATEMENTS: 'auto' });
      const config = validateConfig({
        DATABASE_URL: 'postgresql://app@pgbouncer.internal:6432/exercise_cache',
        DATABASE_DIRECT_URL: 'postgresql://app@db.internal:5432/exercise_cache',
        DATABASE_PREPARED_STATEMENTS: 'false',
      });
      expect(config).toMatchObject({ DATABASE_DIRECT_URL: 'postgresql://app@db.internal:5432/exercise_cache', DATABASE_PREPARED_STATEMENTS: false });
      expect(validateConfig({ DATABASE_PREPARED_STATEMENTS: 'true' }).DATABASE_PREPARED_STATEMENTS).toBe(true);
    });

    it('accepts production with API keys', () => {
      expect(validateConfig({ NODE_ENV: 'production', API_KEYS: 'k1,k2:ro' }).NODE_ENV).toBe('production');
    });
  });

  describe('invalid values: one line naming the variable and what is wrong', () => {
    it.each([
      [{ MAX_ENTRIES: 'abc' }, 'Invalid configuration: MAX_ENTRIES="abc": MAX_ENTRIES must be an integer number'],
      [{ MAX_ENTRIES: '1.5' }, 'Invalid configuration: MAX_ENTRIES="1.5": MAX_ENTRIES must be an integer number'],
      [{ MAX_ENTRIES: '0' }, 'Invalid configuration: MAX_ENTRIES=0: MAX_ENTRIES must not be less than 1'],
      [{ CLEANUP_CRON: '61 * * * *' }, 'Invalid configuration: CLEANUP_CRON="61 * * * *": CLEANUP_CRON must be a valid cron expression (e.g. "0 3 * * *")'],
      [{ EVICT_CRON: 'every night' }, 'Invalid configuration: EVICT_CRON="every night": EVICT_CRON must be a valid cron expression (e.g. "0 3 * * *")'],
      [{ REFRESH_CRON: '* * *' }, 'Invalid configuration: REFRESH_CRON="* * *": REFRESH_CRON must be a valid cron expression (e.g. "0 3 * * *")'],
      [{ MAINTENANCE_TIMEZONE: 'Mars/Olympus' }, 'Invalid configuration: MAINTENANCE_TIMEZONE="Mars/Olympus": MAINTENANCE_TIMEZONE must be an IANA time zone such as "UTC" or "Europe/Berlin"'],
      [{ CLEANUP_ENABLED: 'maybe' }, 'Invalid configuration: CLEANUP_ENABLED="maybe": CLEANUP_ENABLED must be a boolean value'],
      [{ DATABASE_PREPARED_STATEMENTS: 'never' }, 'Invalid configuration: DATABASE_PREPARED_STATEMENTS="never": DATABASE_PREPARED_STATEMENTS must be true, false or auto'],
      [{ HEALTH_SIZE_TOLERANCE_PERCENT: '-5' }, 'Invalid configuration: HEALTH_SIZE_TOLERANCE_PERCENT=-5: HEALTH_SIZE_TOLERANCE_PERCENT must not be less than 0'],
    ])('%j', (env, message) => {
      const error = rejectionOf(env);
      expect(error.message).toBe(message);
      expect(error.message).not.toContain('\n');
    });

    it.each(['not a url', 'mysql://app@db/exercise_cache', 'postgresql://db.internal', 'postgresql://app:s3cret@/exercise_cache'])(
      'DATABASE_URL=%s is rejected without echoing the value (it may hold a password)',
      (url) => {
        const error = rejectionOf({ DATABASE_URL: url });
        expect(error.message).toBe(
          'Invalid configuration: DATABASE_URL=(value hidden): DATABASE_URL must be a URL like postgresql://user:password@host:5432/database',
        );
      },
    );

    it('DATABASE_DIRECT_URL is checked like DATABASE_URL, without echoing the value', () => {
      expect(rejectionOf({ DATABASE_DIRECT_URL: 'db.internal:5432' }).message).toBe(
        'Invalid configuration: DATABASE_DIRECT_URL=(value hidden): DATABASE_DIRECT_URL must be a URL like postgresql://user:password@host:5432/database',
      );
    });

    it('refuses NODE_ENV=production without API_KEYS', () => {
      const error = rejectionOf({ NODE_ENV: 'production' });
      expect(error.message).toBe(
        'Invalid configuration: API_KEYS is required when NODE_ENV=production (comma-separated keys; add ":ro" for read-only)',
      );
    });
  });
});
