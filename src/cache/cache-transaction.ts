import type { PoolClient } from 'pg';

/**
 * A transaction one repository opened and another takes part in (a lease claimed in the same
 * transaction as the store it allows). Services only pass it on; repositories reach the session
 * inside with CacheTransaction.clientOf, so no pg client travels through the domain.
 */
export class CacheTransaction {
  readonly #client: PoolClient;

  constructor(client: PoolClient) {
    this.#client = client;
  }

  static clientOf(transaction: CacheTransaction): PoolClient {
    return transaction.#client;
  }
}
