import type { UsageBatch } from './cache-entry';

/** One row of a usage batch as a batch of its own, for writing rows one at a time. */
export interface UsageRow {
  batch: UsageBatch;
  /** Lookups it carries: every lookup adds to exactly one outcome row, so usage rows carry none. */
  events: number;
  /** Names the row in logs: the cache key, or the day, type and difficulty. */
  label: string;
}

export function rowsOf(batch: UsageBatch): UsageRow[] {
  const rows: UsageRow[] = [];
  for (const [key, usage] of batch.usage) {
    rows.push({ batch: { usage: new Map([[key, usage]]), outcomes: new Map() }, events: 0, label: `usage of ${key}` });
  }
  for (const [id, counts] of batch.outcomes) {
    rows.push({
      batch: { usage: new Map(), outcomes: new Map([[id, counts]]) },
      events: counts.hits + counts.nearHits + counts.stale + counts.coalesced + counts.misses,
      label: `lookups of ${counts.exerciseType} (difficulty ${counts.difficulty}${counts.namespace ? `, namespace ${counts.namespace}` : ''}${counts.generatorVersion ? `, version ${counts.generatorVersion}` : ''}) on ${counts.day}`,
    });
  }
  return rows;
}

/** Rows held: distinct cache keys plus distinct (day, type, difficulty, namespace, version) outcomes. */
export function rowCount(batch: UsageBatch): number {
  return batch.usage.size + batch.outcomes.size;
}
