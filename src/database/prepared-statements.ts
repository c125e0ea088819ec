import { Client } from 'pg';

/**
 * The one place that decides whether queries run as named prepared statements. Repositories name
 * their hot-path queries (`{ name, text, values }`: parsed once per connection, then only bound);
 * a transaction-mode pooler hands each transaction a different server connection, where that name
 * is unknown or already taken, so there the name is dropped and the query runs as an unnamed
 * statement (still parameterised, one round trip).
 */
export class UnnamedStatementsClient extends Client {
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
  return preparedStatements ? Client : UnnamedStatementsClient;
}
