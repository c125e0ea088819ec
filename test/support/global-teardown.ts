import { rm } from 'node:fs/promises';
import { adminQuery } from './admin-query';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.TEST_ADMIN_URL;
  if (adminUrl && process.env.TEST_TEMPLATE_DB) {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${process.env.TEST_TEMPLATE_DB} WITH (FORCE)`).catch(() => undefined);
  }
  await globalThis.__EMBEDDED_TEST_PG__?.stop();
  if (globalThis.__EMBEDDED_TEST_DIR__) await rm(globalThis.__EMBEDDED_TEST_DIR__, { recursive: true, force: true });
}
