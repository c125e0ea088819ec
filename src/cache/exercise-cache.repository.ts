import type { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { CheckedOutClient } from '../database/checked-out-client';
import type { CacheSqlNames } from '../database/sql-names';
import { CONTEXT_LOCK_SPACE, advisoryLockIdOf } from './advisory-locks';
import { CacheTransaction } from './cache-transaction';
import type { CachedEntry, EntryToStore, StaleAllowance, UsageBatch } from './cache-entry';
import { notMigratedOr } from './cache-not-migrated.error';
import { UNKNOWN_TYPE_BUCKET } from './context-rules';

/** The pool, or one client inside a transaction. */
type Queryable = Pool | PoolClient;

interface EntryRow {
  cache_key: string;
  context_key: string;
  variant: number;
  exercise_type: string;
  difficulty: number;
  topics: string[];
  namespace: string | null;
  generator_version: string | null;
  exercise_data: Record<string, unknown>;
  usage_count: number;
  created_at: Date;
  expires_at: Date;
  generation_cost: string;
  stale_while_revalidate_seconds: number;
  stale_grace_seconds: number;
}

/** COMMIT of a usage batch was sent but its answer never came: the batch may or may not be stored. */
export class UsageWriteInDoubt extends Error {
  constructor(
    readonly xid: string,
    readonly reason: Error,
  ) {
    super(`outcome of usage write (transaction ${xid}) unknown: ${reason.message}`, { cause: reason });
  }
}

const ENTRY_COLUMNS = `cache_key, context_key, variant, exercise_type, difficulty, topics, namespace, generator_version, exercise_data,
  usage_count, created_at, expires_at, generation_cost, stale_while_revalidate_seconds, stale_grace_seconds`;

const toEntry = (row: EntryRow): CachedEntry => {
  const entry: CachedEntry = {
    key: row.cache_key,
    contextKey: row.context_key,
    variant: row.variant,
    exerciseType: row.exercise_type,
    difficulty: row.difficulty,
    topics: row.topics,
    exercise: row.exercise_data,
    usageCount: row.usage_count,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    generationCost: Number(row.generation_cost),
    staleWhileRevalidateSeconds: row.stale_while_revalidate_seconds,
    staleGraceSeconds: row.stale_grace_seconds,
  };
  if (row.namespace !== null) entry.namespace = row.namespace;
  if (row.generator_version !== null) entry.generatorVersion = row.generator_version;
  return entry;
};

/**
 * Until when a row may answer a lookup: its expiry plus the longest of its own
 * stale-while-revalidate window, the lookup's max-stale seconds, and (bare max-stale) its grace.
 */
const servableUntil = (maxStaleSeconds: string, withinGrace: string): string =>
  `expires_at + make_interval(secs => greatest(stale_while_revalidate_seconds, ${maxStaleSeconds}::int,
                                               CASE WHEN ${withinGrace}::boolean THEN stale_grace_seconds ELSE 0 END))`;

/**
 * Every query of the cache, on a plain `pg` pool (the package needs neither Prisma's client nor
 * Nest). The lookups and writes on the request path are named prepared statements (one round trip
 * each); everything else calls the SQL functions and views that the migrations define. A query
 * meeting a database without the cache's tables fails with CacheNotMigratedError (one line saying
 * how to migrate).
 */
export class ExerciseCacheRepository {
  constructor(
    private readonly pool: Pool,
    private readonly names: CacheSqlNames,
  ) {}

  /** One statement on the pool (or a transaction's client), with the not-migrated check. */
  private async query<R extends QueryResultRow>(config: QueryConfig | string, values?: unknown[], db: Queryable = this.pool) {
    try {
      return await db.query<R>(config as QueryConfig, values);
    } catch (error) {
      throw notMigratedOr(error);
    }
  }

  async findLiveByKey(key: string): Promise<CachedEntry | null> {
    const { rows } = await this.query<EntryRow>({
      name: this.names.statement('exercise_cache_find_live_by_key'),
      text: `SELECT ${ENTRY_COLUMNS} FROM ${this.names.exerciseCache} WHERE cache_key = $1 AND expires_at > now() AND quarantined_at IS NULL`,
      values: [key],
    });
    return rows.length > 0 ? toEntry(rows[0]) : null;
  }

  /**
   * The entry under this key if it is live, or expired but within its own stale-while-revalidate
   * window or the allowance (max-stale); null otherwise. Not through L1: a stale entry is never
   * held there. The caller tells live from stale by expiresAt (isStale).
   */
  async findServableByKey(key: string, allowance: StaleAllowance = {}): Promise<CachedEntry | null> {
    const { rows } = await this.query<EntryRow>({
      name: this.names.statement('exercise_cache_find_servable_by_key'),
      text: `SELECT ${ENTRY_COLUMNS} FROM ${this.names.exerciseCache}
             WHERE cache_key = $1 AND quarantined_at IS NULL AND ${servableUntil('$2', '$3')} > now()`,
      values: [key, allowance.maxStaleSeconds ?? 0, allowance.withinGrace === true],
    });
    return rows.length > 0 ? toEntry(rows[0]) : null;
  }

  /**
   * Every variant of a context that may answer: live, or expired within its own
   * stale-while-revalidate window or the allowance (as findServableByKey), through
   * idx_exercise_lookup. For lookups only: writers choose slots among live variants.
   */
  async findServableVariants(contextKey: string, maxVariant: number, allowance: StaleAllowance = {}): Promise<CachedEntry[]> {
    const { rows } = await this.query<EntryRow>({
      name: this.names.statement('exercise_cache_find_servable_variants'),
      text: `SELECT ${ENTRY_COLUMNS} FROM ${this.names.exerciseCache}
             WHERE context_key = $1 AND variant <= $2 AND quarantined_at IS NULL AND ${servableUntil('$3', '$4')} > now() ORDER BY variant`,
      values: [contextKey, maxVariant, allowance.maxStaleSeconds ?? 0, allowance.withinGrace === true],
    });
    return rows.map(toEntry);
  }

  /**
   * Every live variant of a context, through idx_exercise_lookup (context_key, variant). A
   * quarantined variant is left out, so its slot counts as free and is generated again.
   */
  async findLiveVariants(contextKey: string, maxVariant: number, db: Queryable = this.pool): Promise<CachedEntry[]> {
    const { rows } = await this.query<EntryRow>({
      name: this.names.statement('exercise_cache_find_live_variants'),
      text: `SELECT ${ENTRY_COLUMNS} FROM ${this.names.exerciseCache}
             WHERE context_key = $1 AND variant <= $2 AND expires_at > now() AND quarantined_at IS NULL ORDER BY variant`,
      values: [contextKey, maxVariant],
    }, undefined, db);
    return rows.map(toEntry);
  }

  /** Inserts or replaces one entry; replacing resets its usage and lifts any quarantine, since it is a new exercise. */
  async upsert(entry: EntryToStore, db: Queryable = this.pool): Promise<{ key: string; expiresAt: Date }> {
    const { rows } = await this.query<{ cache_key: string; expires_at: Date }>({
      name: this.names.statement('exercise_cache_upsert'),
      text: `INSERT INTO ${this.names.exerciseCache} (cache_key, context_key, variant, exercise_type, exercise_data, user_context_hash,
               difficulty, topics, expires_at, generation_cost, generation_time_ms, namespace, generator_version, stale_grace_seconds,
               stale_while_revalidate_seconds)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9), $10, $11, $12, $13, $14, $15)
             ON CONFLICT (cache_key) DO UPDATE SET
               exercise_data = excluded.exercise_data, expires_at = excluded.expires_at, created_at = now(),
               last_used_at = now(), usage_count = 0, generation_cost = excluded.generation_cost,
               generation_time_ms = excluded.generation_time_ms, quarantined_at = NULL,
               generator_version = excluded.generator_version, stale_grace_seconds = excluded.stale_grace_seconds,
               stale_while_revalidate_seconds = excluded.stale_while_revalidate_seconds
             RETURNING cache_key, expires_at`,
      values: [
        entry.key,
        entry.contextKey,
        entry.variant,
        entry.exerciseType,
        entry.exerciseJson,
        entry.userContextHash,
        entry.difficulty,
        entry.topics,
        entry.ttlSeconds,
        entry.generationCost,
        entry.generationTimeMs ?? null,
        entry.namespace ?? null,
        entry.generatorVersion ?? null,
        Math.max(entry.staleGraceSeconds ?? 0, entry.staleWhileRevalidateSeconds ?? 0),
        entry.staleWhileRevalidateSeconds ?? 0,
      ],
    }, undefined, db);
    return { key: rows[0].cache_key, expiresAt: rows[0].expires_at };
  }

  /**
   * Stores a new variant of a context in one transaction holding a lock on the context: reads its
   * live variants, stores `entryFor(slot)` in the slot `chooseSlot` picks among them. Concurrent
   * writers so choose their slots one at a time and never land two new variants in one slot.
   */
  async storeInChosenVariant(
    contextKey: string,
    bucket: number,
    chooseSlot: (liveVariants: CachedEntry[]) => number,
    entryFor: (slot: number) => EntryToStore,
  ): Promise<{ key: string; expiresAt: Date }> {
    return this.withContextLock(contextKey, async (db) => {
      const slot = chooseSlot(await this.findLiveVariants(contextKey, bucket, db));
      return this.upsert(entryFor(slot), db);
    });
  }

  /**
   * Stores many new entries in one statement: bulk loads (the bench seeds a million rows through
   * it) would take minutes one upsert at a time. It only inserts, so a loader may drop the
   * table's indexes meanwhile: a key that is already stored fails the whole call. Topics travel
   * as one JSON array per row, since a text[][] parameter cannot be ragged.
   */
  async insertMany(entries: readonly EntryToStore[]): Promise<void> {
    if (entries.length === 0) return;
    const column = <T>(pick: (entry: EntryToStore) => T) => entries.map(pick);
    await this.query(
      `INSERT INTO ${this.names.exerciseCache} (cache_key, context_key, variant, exercise_type, exercise_data, user_context_hash,
         difficulty, topics, expires_at, generation_cost, generation_time_ms, namespace, generator_version, stale_grace_seconds)
       SELECT k, ck, v, t, d::jsonb, h, diff, ARRAY(SELECT jsonb_array_elements_text(tp::jsonb)), now() + make_interval(secs => ttl),
              cost, ms, ns, gv, grace
       FROM unnest($1::varchar[], $2::varchar[], $3::int[], $4::varchar[], $5::text[], $6::varchar[], $7::int[], $8::text[],
                   $9::float8[], $10::numeric[], $11::int[], $12::varchar[], $13::varchar[], $14::int[])
            AS u(k, ck, v, t, d, h, diff, tp, ttl, cost, ms, ns, gv, grace)`,
      [
        column((e) => e.key),
        column((e) => e.contextKey),
        column((e) => e.variant),
        column((e) => e.exerciseType),
        column((e) => e.exerciseJson),
        column((e) => e.userContextHash),
        column((e) => e.difficulty),
        column((e) => JSON.stringify(e.topics)),
        column((e) => e.ttlSeconds),
        column((e) => e.generationCost),
        column((e) => e.generationTimeMs ?? null),
        column((e) => e.namespace ?? null),
        column((e) => e.generatorVersion ?? null),
        column((e) => e.staleGraceSeconds ?? 0),
      ],
    );
  }

  /**
   * Stores `entryFor(slot)` in the slot `claimSlot` claims, in one transaction holding a lock on the
   * context: a lease holder's store claims its lease (LeaseRepository.claim in the same
   * transaction) and writes, or (the claim throws) writes nothing and keeps the lease.
   */
  async storeInClaimedSlot(
    contextKey: string,
    claimSlot: (transaction: CacheTransaction) => Promise<number>,
    entryFor: (slot: number) => EntryToStore,
  ): Promise<{ key: string; expiresAt: Date }> {
    return this.withContextLock(contextKey, async (db) => {
      const slot = await claimSlot(new CacheTransaction(db));
      return this.upsert(entryFor(slot), db);
    });
  }

  /**
   * Runs `inTransaction` in one transaction holding a lock on one context, so that concurrent writers of
   * its variants choose their slots one at a time (two new variants never land in one slot).
   */
  private async withContextLock<T>(contextKey: string, inTransaction: (db: PoolClient) => Promise<T>): Promise<T> {
    const session = await CheckedOutClient.from(this.pool);
    const client = session.client;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [CONTEXT_LOCK_SPACE, advisoryLockIdOf(contextKey)]);
      const result = await inTransaction(client);
      await client.query('COMMIT');
      session.release();
      return result;
    } catch (error) {
      // A connection that cannot even roll back is in an unknown state: destroyed, not reused.
      const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
      session.release(rolledBack ? undefined : error);
      throw error;
    }
  }

  async deleteByKey(key: string): Promise<number> {
    const { rowCount } = await this.query(`DELETE FROM ${this.names.exerciseCache} WHERE cache_key = $1`, [key]);
    return rowCount ?? 0;
  }

  /** Removes every variant of a context; returns the keys removed. */
  async deleteByContext(contextKey: string): Promise<string[]> {
    const { rows } = await this.query<{ cache_key: string }>(`DELETE FROM ${this.names.exerciseCache} WHERE context_key = $1 RETURNING cache_key`, [contextKey]);
    return rows.map((r) => r.cache_key);
  }

  /**
   * The entry under this key even if it expired, as long as it expired at most `withinSeconds`
   * ago (stale-if-error); null otherwise. Only read when generating failed, never on the hit path.
   */
  async findRecentByKey(key: string, withinSeconds: number): Promise<CachedEntry | null> {
    const { rows } = await this.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM ${this.names.exerciseCache}
       WHERE cache_key = $1 AND expires_at > now() - make_interval(secs => $2) AND quarantined_at IS NULL`,
      [key, withinSeconds],
    );
    return rows.length > 0 ? toEntry(rows[0]) : null;
  }

  /** Removes every entry of one namespace; returns the keys removed. */
  async deleteByNamespace(namespace: string): Promise<string[]> {
    const { rows } = await this.query<{ cache_key: string }>(`DELETE FROM ${this.names.exerciseCache} WHERE namespace = $1 RETURNING cache_key`, [namespace]);
    return rows.map((r) => r.cache_key);
  }

  /**
   * Removes every entry not written with `generatorVersion` (entries without a version too), in
   * one namespace when given; returns the keys removed.
   */
  async deleteOtherVersions(generatorVersion: string, namespace?: string): Promise<string[]> {
    const { rows } = await this.query<{ cache_key: string }>(
      `DELETE FROM ${this.names.exerciseCache}
       WHERE generator_version IS DISTINCT FROM $1 AND ($2::varchar IS NULL OR namespace = $2::varchar)
       RETURNING cache_key`,
      [generatorVersion, namespace ?? null],
    );
    return rows.map((r) => r.cache_key);
  }

  async deleteAll(): Promise<number> {
    const { rowCount } = await this.query(`DELETE FROM ${this.names.exerciseCache}`);
    return rowCount ?? 0;
  }

  async findSimilar(userContextHash: string, limit: number): Promise<CachedEntry[]> {
    const { rows } = await this.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM ${this.names.exerciseCache}
       WHERE user_context_hash = $1 AND expires_at > now() AND quarantined_at IS NULL
       ORDER BY usage_count DESC, last_used_at DESC LIMIT $2`,
      [userContextHash, limit],
    );
    return rows.map(toEntry);
  }

  /**
   * Live entries of one type and difficulty sharing at least `minOverlap` topics with `topics`,
   * most overlap first, then most used. `topics && $3` lets PostgreSQL use the GIN index. Only
   * entries of the same namespace (or, without one, entries without a namespace) are candidates.
   */
  async findByTopics(
    exerciseType: string,
    difficulty: number,
    topics: string[],
    minOverlap: number,
    limit: number,
    namespace?: string,
  ): Promise<(CachedEntry & { overlap: number })[]> {
    const { rows } = await this.query<EntryRow & { overlap: number }>(
      `SELECT * FROM (
         SELECT ${ENTRY_COLUMNS},
                (SELECT count(*) FROM unnest(topics) t WHERE t = ANY($3::text[]))::int AS overlap
         FROM ${this.names.exerciseCache}
         WHERE exercise_type = $1 AND difficulty = $2 AND topics && $3::text[] AND expires_at > now() AND quarantined_at IS NULL
           AND namespace IS NOT DISTINCT FROM $6::varchar
       ) candidates
       WHERE overlap >= $4
       ORDER BY overlap DESC, usage_count DESC, cache_key
       LIMIT $5`,
      [exerciseType, difficulty, topics, minOverlap, limit, namespace ?? null],
    );
    return rows.map((row) => ({ ...toEntry(row), overlap: row.overlap }));
  }

  /**
   * Writes a batch of buffered usage and lookup outcomes in one statement, in a transaction of its
   * own. Keys are sorted so two replicas flushing at once lock rows in the same order.
   *
   * Lookups alone must not add rows without bound (any read key can invent types, namespaces and
   * versions): a type, namespace or generator version that has no stored entry and nothing served
   * in the row is counted as UNKNOWN_TYPE_BUCKET, unless a miss in the row came from a caller about
   * to generate and store (OutcomeCount.generating): its first entry may be stored after the flush.
   *
   * usage_count (an integer) stops at its maximum instead of overflowing: a hot entry that lives
   * long enough to be served 2^31 times must not make every later flush fail.
   *
   * Counters must be written exactly once, and a statement whose answer never arrived (timeout,
   * lost connection) may still be applied by the server later. So: a failure before COMMIT was
   * sent leaves nothing behind (the connection is dropped and the server rolls back) and the batch
   * can be retried; a failure while COMMIT was under way throws UsageWriteInDoubt with the
   * transaction id, whose fate transactionStatus() tells once the database answers again.
   */
  async writeUsage(batch: UsageBatch): Promise<void> {
    const usage = [...batch.usage.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const outcomes = [...batch.outcomes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, counts]) => counts);
    const session = await CheckedOutClient.from(this.pool);
    const client = session.client;
    let xid: string | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ xid: string }>({
        name: this.names.statement('exercise_cache_write_usage'),
        text: `WITH usage AS (
                 UPDATE ${this.names.exerciseCache} c
                 SET usage_count = least(c.usage_count::bigint + u.uses, 2147483647)::int,
                     last_used_at = greatest(c.last_used_at, u.last_used)
                 FROM unnest($1::varchar[], $2::bigint[], $3::timestamptz[]) AS u(cache_key, uses, last_used)
                 WHERE c.cache_key = u.cache_key
                 RETURNING 1
               ), outcomes AS (
                 INSERT INTO ${this.names.lookupStats} AS s
                   (day, exercise_type, difficulty, namespace, generator_version, hits, near_hits, stale, coalesced, misses, cost_saved)
                 SELECT o.day,
                        CASE WHEN o.generating OR o.served > 0 OR EXISTS (SELECT 1 FROM ${this.names.exerciseCache} c WHERE c.exercise_type = o.exercise_type)
                             THEN o.exercise_type ELSE '${UNKNOWN_TYPE_BUCKET}' END,
                        o.difficulty,
                        CASE WHEN o.namespace = '' OR o.generating OR o.served > 0 OR EXISTS (SELECT 1 FROM ${this.names.exerciseCache} c WHERE c.namespace = o.namespace)
                             THEN o.namespace ELSE '${UNKNOWN_TYPE_BUCKET}' END,
                        CASE WHEN o.generator_version = '' OR o.generating OR o.served > 0
                                  OR EXISTS (SELECT 1 FROM ${this.names.exerciseCache} c WHERE c.generator_version = o.generator_version)
                             THEN o.generator_version ELSE '${UNKNOWN_TYPE_BUCKET}' END,
                        sum(o.hits), sum(o.near_hits), sum(o.stale), sum(o.coalesced), sum(o.misses), sum(o.cost_saved)
                 FROM (SELECT u.*, u.hits + u.near_hits + u.stale + u.coalesced AS served
                       FROM unnest($4::date[], $5::varchar[], $6::int[], $7::varchar[], $8::varchar[], $9::bigint[], $10::bigint[],
                                   $11::bigint[], $12::bigint[], $13::bigint[], $14::numeric[], $15::boolean[])
                            AS u(day, exercise_type, difficulty, namespace, generator_version, hits, near_hits, stale, coalesced, misses, cost_saved,
                                 generating)) o
                 GROUP BY 1, 2, 3, 4, 5
                 ORDER BY 1, 2, 3, 4, 5
                 ON CONFLICT (day, exercise_type, difficulty, namespace, generator_version) DO UPDATE SET
                   hits = s.hits + excluded.hits, near_hits = s.near_hits + excluded.near_hits,
                   stale = s.stale + excluded.stale, coalesced = s.coalesced + excluded.coalesced,
                   misses = s.misses + excluded.misses, cost_saved = s.cost_saved + excluded.cost_saved
                 RETURNING 1
               )
               SELECT (SELECT count(*) FROM usage) AS usage_rows, (SELECT count(*) FROM outcomes) AS outcome_rows,
                      txid_current()::text AS xid`,
        values: [
          usage.map(([key]) => key),
          usage.map(([, u]) => u.uses),
          usage.map(([, u]) => u.lastUsedAt),
          outcomes.map((o) => o.day),
          outcomes.map((o) => o.exerciseType),
          outcomes.map((o) => o.difficulty),
          outcomes.map((o) => o.namespace),
          outcomes.map((o) => o.generatorVersion),
          outcomes.map((o) => o.hits),
          outcomes.map((o) => o.nearHits),
          outcomes.map((o) => o.stale),
          outcomes.map((o) => o.coalesced),
          outcomes.map((o) => o.misses),
          outcomes.map((o) => o.costSaved.toFixed(6)),
          outcomes.map((o) => o.generating),
        ],
      });
      xid = rows[0].xid;
      await client.query('COMMIT');
      session.release();
    } catch (error) {
      session.release(error); // never reuse a connection in an unknown state; the server rolls back what was not committed
      if (xid !== undefined) throw new UsageWriteInDoubt(xid, error as Error);
      throw notMigratedOr(error);
    }
  }

  /** The fate of a transaction (txid_status); null when it is too old to tell. */
  async transactionStatus(xid: string): Promise<'committed' | 'aborted' | 'in progress' | null> {
    const { rows } = await this.query<{ status: 'committed' | 'aborted' | 'in progress' | null }>({
      name: this.names.statement('exercise_cache_txid_status'),
      text: 'SELECT txid_status($1::bigint) AS status',
      values: [xid],
    });
    return rows[0].status;
  }

  async cleanupExpired(): Promise<number> {
    const { rows } = await this.query<{ deleted: number }>(`SELECT ${this.names.cleanupExpired}() AS deleted`);
    return rows[0].deleted;
  }

  async evictLeastRecentlyUsed(maxEntries: number): Promise<number> {
    const { rows } = await this.query<{ deleted: number }>(`SELECT ${this.names.evictLru}($1::int) AS deleted`, [maxEntries]);
    return rows[0].deleted;
  }

  async refreshMetrics(): Promise<void> {
    await this.query(`SELECT ${this.names.refreshMetrics}()`);
  }
}
