import { CACHE_KEY_PATTERN } from '../../cache/cache-key';
import { InvalidCacheRequestError, RULE_MESSAGES } from '../../cache/context-rules';
import type { InvalidationBus } from '../../cache/invalidation-bus';
import type { L1Cache } from '../../cache/l1-cache';
import type { QualityCounts, QuarantineRepository, QuarantinedEntry } from './quarantine.repository';

export const MAX_REASON_LENGTH = 500;
export const MAX_REPORTER_LENGTH = 200;
export const MAX_QUARANTINE_LIST = 1000;

export interface ExerciseReport {
  /** What is wrong with the exercise, 1..500 characters. */
  reason: string;
  /** Opaque id of the learner or client reporting (1..200 characters); one report per reporter per entry. */
  reporter?: string;
}

export type ReportResult =
  | { outcome: 'not_found' }
  | { outcome: 'duplicate' }
  | { outcome: 'recorded'; key: string; reports: number; quarantined: boolean };

/** What the service reports as it works (QuarantineMetrics for prom-client; any object for the library). */
export interface QuarantineCounters {
  reported(exerciseType: string, quarantined: boolean): void;
  released(): void;
  deleted(): void;
}

const NO_COUNTERS: QuarantineCounters = { reported: () => undefined, released: () => undefined, deleted: () => undefined };

export interface QuarantineOptions {
  /** Open reports that put an entry in quarantine (QUARANTINE_AFTER_REPORTS). */
  quarantineAfterReports: number;
}

/**
 * Learner reports and quarantine. A quarantined entry stays in the table (cleanup and eviction
 * still apply) but no lookup serves it: every serving query filters quarantined_at, and the
 * entry is dropped from the L1 of this replica and, through the invalidation bus, of every other
 * one as soon as it is quarantined. The next getOrGenerate of its slot then generates anew, and
 * storing a new exercise there lifts the quarantine.
 */
export class QuarantineService {
  constructor(
    private readonly repository: QuarantineRepository,
    private readonly l1: L1Cache,
    private readonly bus: InvalidationBus,
    private readonly options: QuarantineOptions,
    private readonly metrics: QuarantineCounters = NO_COUNTERS,
  ) {}

  async report(key: string, report: ExerciseReport): Promise<ReportResult> {
    assertKey(key);
    if (!report || typeof report !== 'object') throw new InvalidCacheRequestError('report must be an object { reason, reporter? }');
    const reason = typeof report.reason === 'string' ? report.reason.trim() : report.reason;
    if (typeof reason !== 'string' || !lengthWithin(reason, 1, MAX_REASON_LENGTH) || !isStorableText(reason)) {
      throw new InvalidCacheRequestError(`reason must be text of 1..${MAX_REASON_LENGTH} characters (without NUL characters)`);
    }
    const reporter = report.reporter;
    if (reporter !== undefined && (typeof reporter !== 'string' || !lengthWithin(reporter, 1, MAX_REPORTER_LENGTH) || !isStorableText(reporter))) {
      throw new InvalidCacheRequestError(`reporter must be text of 1..${MAX_REPORTER_LENGTH} characters (without NUL characters)`);
    }
    const recorded = await this.repository.recordReport(key, reason, reporter ?? null, this.options.quarantineAfterReports);
    if (recorded.outcome !== 'recorded') return recorded;
    this.metrics.reported(recorded.exerciseType, recorded.newlyQuarantined);
    if (recorded.newlyQuarantined) {
      this.l1.delete([key]);
      await this.bus.publish({ keys: [key] });
    }
    return { outcome: 'recorded', key, reports: recorded.openReports, quarantined: recorded.quarantined };
  }

  list(limit = 100): Promise<QuarantinedEntry[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUARANTINE_LIST) {
      throw new InvalidCacheRequestError(`limit must be an integer from 1 to ${MAX_QUARANTINE_LIST}`);
    }
    return this.repository.listQuarantined(limit);
  }

  /** Serves a quarantined entry again (its reports are dismissed). False when the key is not in quarantine. */
  async release(key: string): Promise<boolean> {
    assertKey(key);
    const released = await this.repository.release(key);
    if (released) this.metrics.released();
    return released;
  }

  /** Deletes a quarantined entry. False when the key is not in quarantine. */
  async remove(key: string): Promise<boolean> {
    assertKey(key);
    const removed = (await this.repository.deleteQuarantined(key)) !== null;
    if (removed) {
      this.metrics.deleted();
      this.l1.delete([key]);
      await this.bus.publish({ keys: [key] });
    }
    return removed;
  }

  /** The overall statistics with reports (ever recorded) and entries in quarantine now. */
  async withOverallCounts<T extends object>(overview: T): Promise<T & QualityCounts> {
    const totals: QualityCounts = { reports: 0, quarantinedEntries: 0 };
    for (const counts of (await this.repository.countsByType()).values()) {
      totals.reports += counts.reports;
      totals.quarantinedEntries += counts.quarantinedEntries;
    }
    return { ...overview, ...totals };
  }

  /** Statistics rows per type (exercise_cache_stats) with their reports and quarantined entries. */
  async withCountsByType<T extends { exerciseType: string }>(rows: T[]): Promise<(T & QualityCounts)[]> {
    const byType = await this.repository.countsByType();
    return rows.map((row) => ({ ...row, ...(byType.get(row.exerciseType) ?? { reports: 0, quarantinedEntries: 0 }) }));
  }
}

function assertKey(key: string): void {
  if (typeof key !== 'string' || !CACHE_KEY_PATTERN.test(key)) throw new InvalidCacheRequestError(RULE_MESSAGES.key());
}

const lengthWithin = (text: string, min: number, max: number) => {
  const length = [...text].length;
  return length >= min && length <= max;
};

/** PostgreSQL text cannot hold NUL, and half a surrogate pair is not text. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const isStorableText = (text: string) => !text.includes('\u0000') && !UNPAIRED_SURROGATE.test(text);
