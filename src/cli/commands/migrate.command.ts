import type { Command } from 'commander';
import { validateConfig } from '../../config/app-config';
import { openDatabase } from '../../database/database-handle';

/**
 * `exercise-cache migrate`: applies pending migrations to DATABASE_URL (in DATABASE_SCHEMA), or
 * to the embedded PostgreSQL when DATABASE_URL is unset. It does not boot the services: they
 * need the tables this creates.
 */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("apply the cache's pending migrations (tables, functions, views) to DATABASE_URL; safe to repeat")
    .action(async () => {
      const config = validateConfig(process.env, { serving: false });
      const database = await openDatabase(config, (line) => process.stderr.write(`${line}\n`), { migrate: true });
      await database.embedded?.stop();
    });
}
