import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import { AppConfig, validateConfig } from '../../src/config/app-config';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** Base URL when started with listen: true. */
  url?: string;
  close(): Promise<void>;
}

/**
 * The real application (same pipes, filters, modules as production) on a test database, with
 * logs silenced and configuration overridable per test.
 */
export async function startTestApp(databaseUrl: string, env: Record<string, string> = {}, options: { listen?: boolean } = {}): Promise<TestApp> {
  const config = validateConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOG_PRETTY: 'false',
    DATABASE_URL: databaseUrl,
    MIGRATE_ON_START: 'false',
    ...env,
  });
  const app = await createApp(config, { url: databaseUrl, schema: config.DATABASE_SCHEMA });
  let url: string | undefined;
  if (options.listen) {
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  } else {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  }
  return { app, config, url, close: () => app.close() };
}
