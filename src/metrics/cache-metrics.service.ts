import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { CacheHooks, LookupOutcome } from '../cache/cache-hooks';
import { LabelLimiter } from './label-limiter';
import { MetricsRegistry } from './metrics-registry';

export type { LookupOutcome } from '../cache/cache-hooks';

/** Counters the cache moves as it works (the core reports through CacheHooks); /metrics exposes them. */
@Injectable()
export class CacheMetrics implements CacheHooks {
  private readonly types = new LabelLimiter();
  private readonly lookups: Counter<'exercise_type' | 'outcome'>;
  private readonly writes: Counter<'exercise_type'>;
  private readonly invalidations: Counter;
  private readonly evictions: Counter;
  private readonly expirations: Counter;
  private readonly costSaved: Counter;
  private readonly l1Lookups: Counter<'outcome'>;
  private l1Source?: () => { entries: number; bytes: number };
  private readonly generations: Counter<'outcome'>;
  private readonly generationSeconds: Histogram;
  private readonly degraded: Counter<'operation'>;
  private readonly flushes: Counter<'outcome'>;
  private readonly schemaViolations: Counter<'exercise_type' | 'source'>;
  private readonly usageRowsRejected: Counter;
  private readonly staleServedCount: Counter<'exercise_type' | 'reason'>;
  private readonly backgroundRefreshes: Counter<'outcome'>;
  private readonly usageEventsDropped: Counter;
  private usageSource?: () => number;

  constructor(registry: MetricsRegistry) {
    const registers = [registry];
    this.lookups = new Counter({
      name: 'exercise_cache_lookups_total',
      help: 'Cache lookups by exercise type and outcome (hit, near_hit, stale, coalesced, miss)',
      labelNames: ['exercise_type', 'outcome'],
      registers,
    });
    this.writes = new Counter({ name: 'exercise_cache_writes_total', help: 'Exercises stored', labelNames: ['exercise_type'], registers });
    this.invalidations = new Counter({ name: 'exercise_cache_invalidations_total', help: 'Entries removed by invalidate or clear', registers });
    this.evictions = new Counter({ name: 'exercise_cache_evictions_total', help: 'Entries removed by LRU eviction', registers });
    this.expirations = new Counter({ name: 'exercise_cache_expirations_total', help: 'Expired entries removed by cleanup', registers });
    this.costSaved = new Counter({
      name: 'exercise_cache_cost_saved_dollars_total',
      help: 'Generation cost avoided by serving cached exercises (sum of the served entries\' generation_cost)',
      registers,
    });
    this.l1Lookups = new Counter({ name: 'exercise_cache_l1_lookups_total', help: 'In-process L1 lookups by outcome', labelNames: ['outcome'], registers });
    const l1 = () => this.l1Source?.() ?? { entries: 0, bytes: 0 };
    new Gauge({
      name: 'exercise_cache_l1_entries',
      help: 'Entries held in the in-process L1',
      registers,
      collect() {
        this.set(l1().entries);
      },
    });
    new Gauge({
      name: 'exercise_cache_l1_bytes',
      help: 'Approximate bytes held in the in-process L1',
      registers,
      collect() {
        this.set(l1().bytes);
      },
    });
    this.generations = new Counter({
      name: 'exercise_cache_generations_total',
      help: 'Calls of the caller-supplied generator in getOrGenerate, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.generationSeconds = new Histogram({
      name: 'exercise_cache_generation_duration_seconds',
      help: 'Time the caller-supplied generator took',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.staleServedCount = new Counter({
      name: 'exercise_cache_stale_served_total',
      help: 'Stale exercises getOrGenerate served because generate() failed (reason error) or timed out (reason timeout)',
      labelNames: ['exercise_type', 'reason'],
      registers,
    });
    this.backgroundRefreshes = new Counter({
      name: 'exercise_cache_background_refreshes_total',
      help: 'Stale-while-revalidate background refreshes: refreshed (stored a new exercise), failed (logged; the stale one keeps answering), skipped (another caller refreshes, or it was fresh again)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['refreshed', 'failed', 'skipped'] as const) this.backgroundRefreshes.inc({ outcome }, 0);
    this.degraded = new Counter({
      name: 'exercise_cache_storage_errors_total',
      help: 'Operations that could not reach PostgreSQL',
      labelNames: ['operation'],
      registers,
    });
    this.flushes = new Counter({
      name: 'exercise_cache_usage_flushes_total',
      help: 'Batched writes of usage and hit/miss counters, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.usageRowsRejected = new Counter({
      name: 'exercise_cache_usage_rows_rejected_total',
      help: 'Rows of a usage flush (a key\'s uses, or a day/type/difficulty\'s lookups) that the database refused and that were dropped',
      registers,
    });
    this.usageEventsDropped = new Counter({
      name: 'exercise_cache_usage_events_dropped_total',
      help: 'Lookups served but not counted because the usage buffer was full (USAGE_BUFFER_MAX_ROWS) while writes failed',
      registers,
    });
    const pending = () => this.usageSource?.() ?? 0;
    new Gauge({
      name: 'exercise_cache_usage_pending_events',
      help: 'Lookups counted in memory and not yet written to PostgreSQL',
      registers,
      collect() {
        this.set(pending());
      },
    });
    this.schemaViolations = new Counter({
      name: 'exercise_cache_schema_violations_total',
      help: "Exercises refused because they broke their type's JSON Schema, by type and source (write: set/POST/import, generate: getOrGenerate's generator)",
      labelNames: ['exercise_type', 'source'],
      registers,
    });
  }

  /** The usage buffer reports its pending events when /metrics is scraped. */
  observeUsageBuffer(source: () => number): void {
    this.usageSource = source;
  }

  usageRowRejected(): void {
    this.usageRowsRejected.inc();
  }

  usageEventDropped(): void {
    this.usageEventsDropped.inc();
  }

  /** The L1 reports its size when /metrics is scraped. */
  observeL1(source: () => { entries: number; bytes: number }): void {
    this.l1Source = source;
  }

  lookup(exerciseType: string, outcome: LookupOutcome, costSaved = 0): void {
    this.lookups.inc({ exercise_type: this.types.label(exerciseType), outcome });
    if (costSaved > 0) this.costSaved.inc(costSaved);
  }

  write(exerciseType: string): void {
    this.writes.inc({ exercise_type: this.types.label(exerciseType) });
  }

  invalidated(count: number): void {
    if (count > 0) this.invalidations.inc(count);
  }

  evicted(count: number): void {
    if (count > 0) this.evictions.inc(count);
  }

  expired(count: number): void {
    if (count > 0) this.expirations.inc(count);
  }

  l1Lookup(hit: boolean): void {
    this.l1Lookups.inc({ outcome: hit ? 'hit' : 'miss' });
  }

  generated(ok: boolean, seconds: number): void {
    this.generations.inc({ outcome: ok ? 'ok' : 'error' });
    this.generationSeconds.observe(seconds);
  }

  storageError(operation: string): void {
    this.degraded.inc({ operation });
  }

  backgroundRefresh(outcome: 'refreshed' | 'failed' | 'skipped'): void {
    this.backgroundRefreshes.inc({ outcome });
  }

  staleServed(exerciseType: string, reason: 'error' | 'timeout'): void {
    this.staleServedCount.inc({ exercise_type: exerciseType, reason });
  }

  schemaViolation(exerciseType: string, source: 'write' | 'generate'): void {
    this.schemaViolations.inc({ exercise_type: this.types.label(exerciseType), source });
  }

  flushed(ok: boolean): void {
    this.flushes.inc({ outcome: ok ? 'ok' : 'error' });
  }
}
