import type { Pool } from 'pg';
import { CheckedOutClient } from '../../database/checked-out-client';
import type { CacheSqlNames } from '../../database/sql-names';

export type ReportRecorded =
  | { outcome: 'not_found' }
  | { outcome: 'duplicate' }
  | { outcome: 'recorded'; exerciseType: string; openReports: number; quarantined: boolean; newlyQuarantined: boolean };

export interface QuarantineReport {
  reason: string;
  reporter: string | null;
  reportedAt: Date;
}

export interface QuarantinedEntry {
  key: string;
  exerciseType: string;
  difficulty: number;
  topics: string[];
  variant: number;
  exercise: Record<string, unknown>;
  createdAt: Date;
  expiresAt: Date;
  quarantinedAt: Date;
  reports: QuarantineReport[];
}

export interface QualityCounts {
  reports: number;
  quarantinedEntries: number;
}

interface QuarantinedRow {
  cache_key: string;
  exercise_type: string;
  difficulty: number;
  topics: string[];
  variant: number;
  exercise_data: Record<string, unknown>;
  created_at: Date;
  expires_at: Date;
  quarantined_at: Date;
  reports: { reason: string; reporter: string | null; reported_at: string }[];
}

/**
 * Every query of reports and quarantine; the only owner of exercise_cache_reports. A report
 * belongs to one version of an entry (its created_at, renewed whenever a new exercise replaces
 * it), so reports of a replaced exercise never count against its successor.
 *
 * The one place outside src/cache that reads exercise_cache: quarantine is a state of an entry
 * (quarantined_at), decided together with its reports under the entry's row lock in one
 * transaction. Splitting those statements between two repositories would mean handing a
 * transaction's client from one to the other, so they stay together here.
 */
export class QuarantineRepository {
  constructor(
    private readonly pool: Pool,
    private readonly names: CacheSqlNames,
  ) {}

  /**
   * Records a report on a live entry and quarantines the entry once it has `threshold` open
   * (not dismissed) reports, in one transaction holding the entry's row lock, so concurrent
   * reports are counted one after the other.
   */
  async recordReport(key: string, reason: string, reporter: string | null, threshold: number): Promise<ReportRecorded> {
    const session = await CheckedOutClient.from(this.pool);
    const client = session.client;
    try {
      await client.query('BEGIN');
      const entry = await client.query<{ exercise_type: string; quarantined: boolean }>(
        `SELECT exercise_type, quarantined_at IS NOT NULL AS quarantined
         FROM ${this.names.exerciseCache} WHERE cache_key = $1 AND expires_at > now() FOR UPDATE`,
        [key],
      );
      if (entry.rows.length === 0) {
        await client.query('ROLLBACK');
        return { outcome: 'not_found' };
      }
      const { exercise_type: exerciseType, quarantined } = entry.rows[0];
      // created_at is copied in SQL: a JS Date would drop its microseconds and never match it again.
      const inserted = await client.query(
        `INSERT INTO ${this.names.reports} (cache_key, entry_created_at, exercise_type, reporter, reason)
         SELECT cache_key, created_at, exercise_type, $2, $3 FROM ${this.names.exerciseCache} WHERE cache_key = $1
         ON CONFLICT (cache_key, entry_created_at, reporter) DO NOTHING RETURNING id`,
        [key, reporter, reason],
      );
      if (inserted.rowCount === 0) {
        await client.query('ROLLBACK');
        return { outcome: 'duplicate' };
      }
      const {
        rows: [{ open: openReports }],
      } = await client.query<{ open: number }>(
        `SELECT count(*)::int AS open
         FROM ${this.names.reports} r JOIN ${this.names.exerciseCache} c ON c.cache_key = r.cache_key AND c.created_at = r.entry_created_at
         WHERE c.cache_key = $1 AND r.dismissed_at IS NULL`,
        [key],
      );
      const newlyQuarantined = !quarantined && openReports >= threshold;
      if (newlyQuarantined) await client.query(`UPDATE ${this.names.exerciseCache} SET quarantined_at = now() WHERE cache_key = $1`, [key]);
      await client.query('COMMIT');
      return { outcome: 'recorded', exerciseType, openReports, quarantined: quarantined || newlyQuarantined, newlyQuarantined };
    } catch (error) {
      // A connection that cannot even roll back is in an unknown state: destroyed, not reused.
      const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
      session.release(rolledBack ? undefined : error);
      throw error;
    } finally {
      session.release();
    }
  }

  /** Quarantined entries (expired ones too, until cleanup removes them), most recent first, with their open reports. */
  async listQuarantined(limit: number): Promise<QuarantinedEntry[]> {
    const { rows } = await this.pool.query<QuarantinedRow>(
      `SELECT c.cache_key, c.exercise_type, c.difficulty, c.topics, c.variant, c.exercise_data, c.created_at, c.expires_at,
              c.quarantined_at,
              coalesce((SELECT json_agg(json_build_object('reason', r.reason, 'reporter', r.reporter, 'reported_at', r.reported_at)
                                        ORDER BY r.reported_at, r.id)
                        FROM ${this.names.reports} r
                        WHERE r.cache_key = c.cache_key AND r.entry_created_at = c.created_at AND r.dismissed_at IS NULL), '[]') AS reports
       FROM ${this.names.exerciseCache} c
       WHERE c.quarantined_at IS NOT NULL
       ORDER BY c.quarantined_at DESC, c.cache_key
       LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      key: row.cache_key,
      exerciseType: row.exercise_type,
      difficulty: row.difficulty,
      topics: row.topics,
      variant: row.variant,
      exercise: row.exercise_data,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      quarantinedAt: row.quarantined_at,
      reports: row.reports.map((r) => ({ reason: r.reason, reporter: r.reporter, reportedAt: new Date(r.reported_at) })),
    }));
  }

  /** Serves the entry again; its open reports are dismissed so they no longer count. False when it was not quarantined. */
  async release(key: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ released: number }>(
      `WITH released AS (
         UPDATE ${this.names.exerciseCache} SET quarantined_at = NULL
         WHERE cache_key = $1 AND quarantined_at IS NOT NULL
         RETURNING cache_key, created_at
       ), dismissed AS (
         UPDATE ${this.names.reports} r SET dismissed_at = now()
         FROM released
         WHERE r.cache_key = released.cache_key AND r.entry_created_at = released.created_at AND r.dismissed_at IS NULL
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM released)::int AS released, (SELECT count(*) FROM dismissed)::int AS dismissed`,
      [key],
    );
    return rows[0].released > 0;
  }

  /** Deletes the entry if it is quarantined; its reports stay as history. Returns its type, or null. */
  async deleteQuarantined(key: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ exercise_type: string }>(
      `DELETE FROM ${this.names.exerciseCache} WHERE cache_key = $1 AND quarantined_at IS NOT NULL RETURNING exercise_type`,
      [key],
    );
    return rows[0]?.exercise_type ?? null;
  }

  /** Reports ever recorded (history included) and entries in quarantine now, per exercise type. */
  async countsByType(): Promise<Map<string, QualityCounts>> {
    const { rows } = await this.pool.query<{ exercise_type: string; reports: number; quarantined_entries: number }>(
      `WITH reports AS (
         SELECT exercise_type, count(*) AS reports FROM ${this.names.reports} GROUP BY exercise_type
       ), quarantined AS (
         SELECT exercise_type, count(*) AS quarantined_entries FROM ${this.names.exerciseCache} WHERE quarantined_at IS NOT NULL GROUP BY exercise_type
       )
       SELECT exercise_type, coalesce(reports, 0)::int AS reports, coalesce(quarantined_entries, 0)::int AS quarantined_entries
       FROM reports FULL JOIN quarantined USING (exercise_type)`,
    );
    return new Map(rows.map((row) => [row.exercise_type, { reports: row.reports, quarantinedEntries: row.quarantined_entries }]));
  }
}
