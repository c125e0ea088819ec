import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { CacheSqlNames } from '../database/sql-names';
import { CacheTransaction } from './cache-transaction';

/** A lease attempt: granted with its token, or held by another caller until `holderExpiresInMs`. */
export type LeaseAttempt =
  | { granted: true; token: string }
  /** `holderExpiresInMs` is null when the holder's row was not visible (released a moment ago). */
  | { granted: false; holderExpiresInMs: number | null };

export interface ClaimedLease {
  leaseKey: string;
  contextKey: string;
  variant: number;
}

/**
 * Every query on exercise_cache_leases, schema-qualified (see CacheSqlNames). Times are the
 * database's (now()), never a replica's clock.
 */
export class LeaseRepository {
  constructor(
    private readonly pool: Pool,
    private readonly names: CacheSqlNames,
  ) {}

  /**
   * Takes the lease on one slot unless another caller holds an unexpired one: a single statement,
   * so across replicas exactly one caller wins. A crashed holder's expired lease is taken over.
   */
  async acquire(leaseKey: string, contextKey: string, variant: number, seconds: number): Promise<LeaseAttempt> {
    const token = randomBytes(16).toString('hex');
    const { rows } = await this.pool.query<{ token: string | null; holder_ms: number | null }>({
      name: this.names.statement('exercise_cache_lease_acquire'),
      text: `WITH attempt AS (
               INSERT INTO ${this.names.leases} AS l (lease_key, context_key, variant, token, expires_at)
               VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
               ON CONFLICT (lease_key) DO UPDATE SET
                 context_key = excluded.context_key, variant = excluded.variant, token = excluded.token,
                 expires_at = excluded.expires_at, created_at = now()
               WHERE l.expires_at <= now()
               RETURNING token
             )
             SELECT (SELECT token FROM attempt) AS token,
                    (SELECT greatest(0, ceil(extract(epoch FROM expires_at - now()) * 1000))::int
                     FROM ${this.names.leases} WHERE lease_key = $1) AS holder_ms`,
      values: [leaseKey, contextKey, variant, token, seconds],
    });
    if (rows[0].token === token) return { granted: true, token };
    return { granted: false, holderExpiresInMs: rows[0].holder_ms };
  }

  /**
   * Ends the lease with this token and says which slot it was for; null when the token is unknown
   * (its lease expired and went to another caller). Inside the store's transaction, so a failed
   * store keeps the lease.
   */
  async claim(token: string, transaction?: CacheTransaction): Promise<ClaimedLease | null> {
    const db = transaction ? CacheTransaction.clientOf(transaction) : this.pool;
    const { rows } = await db.query<{ lease_key: string; context_key: string; variant: number }>({
      name: this.names.statement('exercise_cache_lease_claim'),
      text: `DELETE FROM ${this.names.leases} WHERE token = $1 RETURNING lease_key, context_key, variant`,
      values: [token],
    });
    return rows.length > 0 ? { leaseKey: rows[0].lease_key, contextKey: rows[0].context_key, variant: rows[0].variant } : null;
  }

  /** Gives a lease back without storing (its slot turned out to be filled already). */
  async release(token: string): Promise<void> {
    await this.pool.query({
      name: this.names.statement('exercise_cache_lease_release'),
      text: `DELETE FROM ${this.names.leases} WHERE token = $1`,
      values: [token],
    });
  }

  /**
   * Removes leases that ended long ago without a store (their holders crashed) and were never
   * taken over. The hour's grace keeps a late store by the last holder possible (no lease lasts
   * longer than 300 s), so it gets 409 only when another caller took its lease.
   */
  async deleteAbandoned(): Promise<number> {
    const { rowCount } = await this.pool.query({
      name: this.names.statement('exercise_cache_lease_delete_abandoned'),
      text: `DELETE FROM ${this.names.leases} WHERE expires_at < now() - interval '1 hour'`,
    });
    return rowCount ?? 0;
  }
}
