import { Client } from 'pg';
import { ignoreConnectionErrors } from '../../src/database/checked-out-client';

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** One statement on its own connection (CREATE/DROP DATABASE cannot run on a pooled one in a transaction). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = ignoreConnectionErrors(new Client({ connectionString: url }));
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
