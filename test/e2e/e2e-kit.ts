import request from 'supertest';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';

export interface E2e {
  db: TestDatabase;
  t: TestApp;
  /** A supertest client for the listening app. */
  http: () => ReturnType<typeof request>;
  close(): Promise<void>;
}

/** The real application listening on a free port, on a database of its own. */
export async function startE2e(env: Record<string, string> = {}): Promise<E2e> {
  const db = await createTestDatabase();
  const t = await startTestApp(db.url, env, { listen: true });
  return {
    db,
    t,
    http: () => request(t.url!),
    close: async () => {
      await t.close();
      await db.drop();
    },
  };
}

/** A POST body for a context; exercise and options as given. */
export const storeBody = (type: string, topics: string[], extra: Record<string, unknown> = {}, difficulty = 3) => ({
  context: { type, difficulty, topics },
  exercise: { question: `${type}: ${topics.join(' and ')}?`, answer: 42 },
  ...extra,
});
