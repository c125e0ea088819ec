/**
 * How a lookup ended: an exact hit, a near miss served, an expired entry served (stale), the
 * exercise another caller generated under its lease (coalesced), or nothing (miss).
 */
export type LookupOutcome = 'hit' | 'near_hit' | 'stale' | 'coalesced' | 'miss';

/**
 * What the cache core reports as it works, for metrics. Every method is optional; the HTTP
 * service's CacheMetrics (prom-client) implements all of them.
 */
export interface CacheHooks {
  lookup?(exerciseType: string, outcome: LookupOutcome, costSaved?: number): void;
  write?(exerciseType: string): void;
  invalidated?(count: number): void;
  evicted?(count: number): void;
  expired?(count: number): void;
  l1Lookup?(hit: boolean): void;
  /** The L1 hands over a way to read its size, read when metrics are collected. */
  observeL1?(source: () => { entries: number; bytes: number }): void;
  generated?(ok: boolean, seconds: number): void;
  storageError?(operation: string): void;
  /** An exercise refused for breaking its type's JSON Schema (source: a write, or the generator). */
  schemaViolation?(exerciseType: string, source: 'write' | 'generate'): void;
  flushed?(ok: boolean): void;
  /** The usage buffer hands over a way to read how many events wait unwritten. */
  observeUsageBuffer?(source: () => number): void;
  /** A usage row the database refused for what it holds (dropped). */
  usageRowRejected?(): void;
  /** getOrGenerate served a stale entry because generate() failed or timed out. */
  staleServed?(exerciseType: string, reason: 'error' | 'timeout'): void;
  /** A stale-while-revalidate background refresh ended: stored a new exercise, failed, or had nothing to do. */
  backgroundRefresh?(outcome: 'refreshed' | 'failed' | 'skipped'): void;
  /** A lookup left uncounted because the usage buffer was full. */
  usageEventDropped?(): void;
}
