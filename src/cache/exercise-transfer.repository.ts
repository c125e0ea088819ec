import type { Pool } from 'pg';
import { CheckedOutClient } from '../database/checked-out-client';
import type { CacheSqlNames } from '../database/sql-names';

/** A live entry as the CLI's export writes it. */
export interface ExportedEntry {
  exerciseType: string;
  difficulty: number;
  topics: string[];
  /** null: the entry has no namespace. */
  namespace: string | null;
  variant: number;
  exercise: Record<string, unknown>;
  generationCost: number;
  /** Seconds until expires_at, rounded up. */
  remainingSeconds: number;
}

interface ExportRow {
  exercise_type: string;
  difficulty: number;
  topics: string[];
  namespace: string | null;
  variant: number;
  exercise_data: Record<string, unknown>;
  generation_cost: string;
  remaining_seconds: number;
}

/** The cache's queries for the CLI's export and import (the import stores through the cache's services). */
export class ExerciseTransferRepository {
  constructor(
    private readonly pool: Pool,
    private readonly names: CacheSqlNames,
  ) {}

  /**
   * Every live entry, `batchSize` rows at a time, through a cursor in one read-only
   * REPEATABLE READ transaction: memory stays bounded by the batch, and the export is one
   * consistent snapshot even while the service keeps writing.
   */
  async *exportLiveEntries(batchSize: number): AsyncGenerator<ExportedEntry[]> {
    const session = await CheckedOutClient.from(this.pool);
    const client = session.client;
    let failure: unknown;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(
        `DECLARE exercise_export NO SCROLL CURSOR FOR
         SELECT exercise_type, difficulty, topics, namespace, variant, exercise_data, generation_cost,
                ceil(extract(epoch FROM expires_at - now()))::int AS remaining_seconds
         FROM ${this.names.exerciseCache}
         WHERE expires_at > now() AND quarantined_at IS NULL
         ORDER BY cache_key`,
      );
      for (;;) {
        const { rows } = await client.query<ExportRow>(`FETCH ${Math.trunc(batchSize)} FROM exercise_export`);
        if (rows.length === 0) break;
        yield rows.map((row) => ({
          exerciseType: row.exercise_type,
          difficulty: row.difficulty,
          topics: row.topics,
          namespace: row.namespace,
          variant: row.variant,
          exercise: row.exercise_data,
          generationCost: Number(row.generation_cost),
          remainingSeconds: row.remaining_seconds,
        }));
      }
      await client.query('COMMIT');
    } catch (error) {
      failure = error ?? new Error('export failed');
      throw error;
    } finally {
      // A consumer that stops early (or an error) leaves the transaction open: roll it back.
      if (failure === undefined) await client.query('ROLLBACK').catch(() => undefined);
      session.release(failure);
    }
  }

  /** Which of these keys hold a live entry now. */
  async liveKeysAmong(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const { rows } = await this.pool.query<{ cache_key: string }>(
      `SELECT cache_key FROM ${this.names.exerciseCache} WHERE cache_key = ANY($1::varchar[]) AND expires_at > now()`,
      [[...keys]],
    );
    return new Set(rows.map((row) => row.cache_key));
  }
}
