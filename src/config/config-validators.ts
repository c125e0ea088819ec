import { CronTime } from 'cron';
import { ValidateBy, ValidationOptions, buildMessage } from 'class-validator';

export function IsCronExpression(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCronExpression',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            new CronTime(value);
            return true;
          } catch {
            return false;
          }
        },
        defaultMessage: buildMessage((each) => `${each}$property must be a valid cron expression (e.g. "0 3 * * *")`, options),
      },
    },
    options,
  );
}

export function IsTimeZone(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTimeZone',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: value });
            return true;
          } catch {
            return false;
          }
        },
        defaultMessage: buildMessage((each) => `${each}$property must be an IANA time zone such as "UTC" or "Europe/Berlin"`, options),
      },
    },
    options,
  );
}

export function IsPostgresUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPostgresUrl',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            const url = new URL(value);
            return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' && url.pathname.length > 1;
          } catch {
            return false;
          }
        },
        defaultMessage: buildMessage(
          (each) => `${each}$property must be a URL like postgresql://user:password@host:5432/database`,
          options,
        ),
      },
    },
    options,
  );
}
