import { Client, ClientConfig } from 'pg';

/** What the server behind a connection URL accepts: PostgreSQL itself, or a pooler in front of it. */
export interface ConnectionProfile {
  /** statement_timeout is accepted as a startup parameter (PostgreSQL does; PgBouncer refuses it). */
  statementTimeoutAtConnect: boolean;
  /**
   * Consecutive transactions of one client may run on different server sessions (PgBouncer in
   * transaction or statement mode): no LISTEN, no session advisory locks, no named statements.
   */
  transactionPooler: boolean;
}

/** The database (or the pooler in front of it) refuses how the service must connect: startup stops. */
export class DatabaseRefusedError extends Error {}

const UNSUPPORTED_STARTUP_PARAMETER = /unsupported startup parameter/i;

/**
 * Connects to `url` the way the service's query pool does and finds out what it is talking to.
 * Returns undefined when the server cannot be reached now (the service then starts as usual and
 * answers 503 until it can). Throws DatabaseRefusedError when a server answers but refuses the
 * connection even without the parameters a pooler does not carry.
 */
export async function probeConnection(
  url: string,
  variable: string,
  options: { statementTimeoutMs: number; connectTimeoutMs: number },
): Promise<ConnectionProfile | undefined> {
  const base: ClientConfig = { connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs, application_name: 'exercise-cache' };
  let statementTimeoutAtConnect = true;
  let first: Client;
  try {
    first = await connect({ ...base, statement_timeout: options.statementTimeoutMs });
  } catch (error) {
    if (!UNSUPPORTED_STARTUP_PARAMETER.test((error as Error).message)) return undefined;
    statementTimeoutAtConnect = false;
    try {
      first = await connect(base);
    } catch (retryError) {
      throw new DatabaseRefusedError(`${variable}: the server refused the service's connection: ${(retryError as Error).message}`);
    }
  }
  try {
    const transactionPooler = await sharesSessions(first, base);
    return transactionPooler === undefined ? undefined : { statementTimeoutAtConnect, transactionPooler };
  } finally {
    await first.end().catch(() => undefined);
  }
}

/**
 * Two clients connected at once have two sessions on PostgreSQL, so their backends differ. A
 * transaction-mode pooler gives an idle server connection to whichever client runs next, so the
 * second client's query usually lands on the backend the first one just used. Any repeat of a
 * backend proves pooling; a few tries cover another client taking that connection in between.
 * Undefined when the second connection cannot be had.
 */
async function sharesSessions(first: Client, config: ClientConfig): Promise<boolean | undefined> {
  // A busy server may take one connection and refuse or delay a second (too many clients, the
  // connect timeout): that cannot tell either way, like a server that does not answer at all.
  const second = await connect(config).catch(() => undefined);
  if (!second) return undefined;
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const a = await backendOf(first);
      const b = await backendOf(second);
      if (a === b) return true;
    }
    return false;
  } finally {
    await second.end().catch(() => undefined);
  }
}

async function backendOf(client: Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0].pid;
}

async function connect(config: ClientConfig): Promise<Client> {
  const client = new Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
