import type { Client, Pool, PoolClient } from 'pg';

/**
 * A pool client held for a session of several statements (a transaction, a session lock, a
 * cursor). pg emits 'error' on a client whose connection the server ends (pg_terminate_backend,
 * idle_session_timeout, a failover, a pooler restart), even between two queries; a checked-out
 * client has no listener of its own, so without this one that event would crash the process. The
 * statement under way fails on its own; the lost connection is destroyed on release, never
 * handed to the next caller.
 */
export class CheckedOutClient {
  private lostWith?: Error;
  private released = false;
  private readonly onError = (error: Error) => {
    this.lostWith ??= error;
  };

  private constructor(readonly client: PoolClient) {
    client.on('error', this.onError);
  }

  /**
   * Checks a client out of `pool` with the listener attached in pg-pool's own callback. Awaiting
   * `pool.connect()` instead leaves a gap: the pool drops its listener when it hands the client
   * over, the promise resumes the caller only later, and a server that ends the session right
   * after accepting it (both messages in one packet) would meet a client with no listener.
   */
  static from(pool: Pool): Promise<CheckedOutClient> {
    return new Promise((resolve, reject) => {
      pool.connect((error, client) => {
        if (error || !client) reject(error ?? new Error('no client from the pool'));
        else resolve(new CheckedOutClient(client));
      });
    });
  }

  /** The error the connection was lost with, if it was. */
  get lost(): Error | undefined {
    return this.lostWith;
  }

  /**
   * Returns the client to the pool; with an error (or after the connection was lost) the pool
   * destroys it instead. Releasing twice is a no-op.
   */
  release(error?: unknown): void {
    if (this.released) return;
    this.released = true;
    this.client.removeListener('error', this.onError);
    const reason = this.lostWith ?? (error === undefined || error === false ? undefined : asError(error));
    this.client.release(reason);
  }
}

/**
 * A standalone client (migrations, CLI, admin statements) gets the same guard: the error then
 * reaches the statement that fails with it, not the process.
 */
export function ignoreConnectionErrors<T extends Client>(client: T): T {
  client.on('error', () => undefined);
  return client;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
