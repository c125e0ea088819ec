import type { Pool } from 'pg';
import { CheckedOutClient } from '../database/checked-out-client';
import { GENERATION_LOCK_SPACE, advisoryLockIdOf } from './advisory-locks';
import { CacheLogger, ScopedLogger, consoleCacheLogger, scopedLogger } from './cache-logger';
import type { CacheSettings } from './cache-settings';

export type LockOutcome = 'acquired' | 'acquired-after-wait' | 'unavailable';

/**
 * Single-flight across replicas: a PostgreSQL session advisory lock per cache key, held while one
 * replica generates. Others wait on the lock (at most SINGLE_FLIGHT_WAIT_MS, through
 * lock_timeout), then find the stored exercise. If the holder dies its session ends and the lock
 * is released at once, so a waiter takes over and generates. Locks live on the session pool
 * (direct sessions to PostgreSQL, never through a transaction-mode pooler; not the query pool),
 * so waiting generations never starve ordinary queries.
 */
export class GenerationLock {
  private readonly logger: ScopedLogger;

  constructor(
    private readonly pool: Pool,
    private readonly settings: Pick<CacheSettings, 'singleFlightWaitMs'>,
    logger: CacheLogger = consoleCacheLogger,
  ) {
    this.logger = scopedLogger(logger, GenerationLock.name);
  }

  /**
   * Runs `generate` holding the lock for `cacheKey`. `outcome` says whether it was free, became free
   * after waiting (someone else probably stored the exercise meanwhile), or could not be had
   * (database down, wait exceeded): then `generate` runs without it.
   */
  async withLock<T>(cacheKey: string, generate: (outcome: LockOutcome) => Promise<T>): Promise<T> {
    const lockId = advisoryLockIdOf(cacheKey);
    // The session keeps an 'error' listener while checked out: the server ending it while we
    // generate (restart, pg_terminate_backend, network) must not take the process down. Losing
    // the session releases the lock; another replica may then generate the same exercise, which
    // is the documented fallback.
    let session: CheckedOutClient | undefined;
    let outcome: LockOutcome = 'unavailable';
    try {
      session = await CheckedOutClient.from(this.pool);
      const client = session.client;
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [GENERATION_LOCK_SPACE, lockId]);
      if (rows[0].locked) {
        outcome = 'acquired';
      } else if (this.settings.singleFlightWaitMs > 0) {
        await client.query(`SET lock_timeout = ${this.settings.singleFlightWaitMs}`);
        try {
          await client.query('SELECT pg_advisory_lock($1, $2)', [GENERATION_LOCK_SPACE, lockId]);
          outcome = 'acquired-after-wait';
        } finally {
          await client.query('RESET lock_timeout').catch(() => undefined);
        }
      }
    } catch (error) {
      session?.release(error);
      session = undefined;
      outcome = 'unavailable';
      this.logger.warn(`generation lock for ${cacheKey.slice(0, 12)} unavailable, generating without it: ${(error as Error).message}`);
    }
    try {
      return await generate(outcome);
    } finally {
      if (session) {
        if (session.lost) {
          this.logger.warn(`generation lock for ${cacheKey.slice(0, 12)} lost with its connection: ${session.lost.message}`);
        } else if (outcome !== 'unavailable') {
          await session.client.query('SELECT pg_advisory_unlock($1, $2)', [GENERATION_LOCK_SPACE, lockId]).catch(() => undefined);
        }
        session.release();
      }
    }
  }

}

