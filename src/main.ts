import 'reflect-metadata';
import pino from 'pino';
import { createApp } from './app';
import { ConfigValidationError, validateConfig } from './config/app-config';
import { DatabaseRefusedError } from './database/connection-probe';
import { openDatabase } from './database/database-handle';
import { EmbeddedPostgresError } from './database/embedded-postgres';
import { InvalidExerciseSchemaError } from './quality/schemas/exercise-schema.errors';
import { schemaRegistryFor } from './quality/schemas/schema-registry-for-config';

async function main(): Promise<void> {
  const config = validateConfig(process.env);
  // Before the database: a broken schema file stops startup at once, with one line naming it.
  schemaRegistryFor(config);
  const pretty = config.LOG_PRETTY ?? config.NODE_ENV === 'development';
  const bootLog = pino({
    level: config.LOG_LEVEL,
    name: 'bootstrap',
    transport: pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
  });
  const database = await openDatabase(config, (line) => bootLog.info(line));
  const app = await createApp(config, database);
  await app.listen(config.PORT, config.HOST);
  bootLog.info(`exercise-cache listening on http://${config.HOST}:${config.PORT} (docs at /docs)`);

  // Nest's shutdown hooks close the server, finish in-flight requests and flush buffers; the
  // embedded database stops last, and a stuck shutdown is cut off after SHUTDOWN_TIMEOUT_MS.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      bootLog.info(`${signal} received: draining requests, stopping jobs, flushing counters`);
      setTimeout(() => {
        bootLog.error(`shutdown did not finish within ${config.SHUTDOWN_TIMEOUT_MS} ms; exiting`);
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS).unref();
      void app
        .close()
        .then(() => database.embedded?.stop())
        .then(
          () => {
            bootLog.info('shutdown complete');
            process.exit(0);
          },
          async (error: Error) => {
            bootLog.error(`shutdown failed: ${error.message}`);
            await database.embedded?.stop().catch(() => undefined);
            process.exit(1);
          },
        );
    });
  }
}

main().catch((error: unknown) => {
  const expected =
    error instanceof ConfigValidationError ||
    error instanceof EmbeddedPostgresError ||
    error instanceof InvalidExerciseSchemaError ||
    error instanceof DatabaseRefusedError;
  process.stderr.write(`exercise-cache failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  if (!expected && error instanceof Error && process.env.LOG_LEVEL === 'debug') process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
