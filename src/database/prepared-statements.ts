import { Client, ClientConfig } from 'pg';

/**
 * pg's Client as the service's pools create it: with an 'error' listener from the moment it
 * exists. The pool removes its own listener when it hands a client out, and the caller can only
 * add one after its `await pool.connect()` resumes; a server that ends the session in that gap
 * (the FATAL arriving in the same read as the connection's ReadyForQuery) would otherwise be an
 * unhandled 'error' event that ends the process. The lost connection still fails the next query
 * on it, and idle clients still leave the pool through the pool's own listener.
 */
export class ListeningClient extends Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

/**
 * The one place that decides whether queries run as named prepared statements. Repositories name
 * their hot-path queries (`{ name, text, values }`: parsed once per connection, then only bound);
 * a transaction-mode pooler hands each transaction a different server connection, where that name
 * is unknown or already taken, so there the name is dropped and the query runs as an unnamed
 * statement (still parameterised, one round trip).
 */
export class UnnamedStatementsClient extends ListeningClient {
  // pg's overloads (text, config, submittable; promise or callback) pass through untouched.
  override query(...args: unknown[]): never {
    const [config] = args;
    if (isNamedConfig(config)) {
      const { name: _dropped, ...unnamed } = config;
      args[0] = unnamed;
    }
    return (Client.prototype.query as (...a: unknown[]) => never).apply(this, args);
  }
}

function isNamedConfig(config: unknown): config is { name: string } & Record<string, unknown> {
  return (
    typeof config === 'object' &&
    config !== null &&
    typeof (config as { submit?: unknown }).submit !== 'function' &&
    typeof (config as { name?: unknown }).name === 'string'
  );
}

/** The pg Client class for a pool: named statements on, or dropped. */
export function clientClassFor(preparedStatements: boolean): typeof Client {
  return preparedStatements ? ListeningClient : UnnamedStatementsClient;
}
