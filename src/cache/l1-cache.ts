import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '../config/app-config';
import { CacheMetrics } from '../metrics/cache-metrics.service';
import type { CachedEntry } from './cache-entry';

/** Rough in-memory size of an entry: its JSON text (2 bytes a character) plus fixed overhead. */
const sizeOf = (entry: CachedEntry) => 2 * JSON.stringify(entry.exercise).length + 600;

/**
 * In-process LRU in front of PostgreSQL, bounded in entries and bytes. An entry is never served
 * past its expires_at; writes, invalidations and evictions on any replica remove entries here
 * through the InvalidationBus.
 */
@Injectable()
export class L1Cache {
  private readonly cache?: LRUCache<string, CachedEntry>;

  constructor(
    config: AppConfig,
    private readonly metrics: CacheMetrics,
  ) {
    if (!config.L1_ENABLED) return;
    this.cache = new LRUCache<string, CachedEntry>({
      max: config.L1_MAX_ENTRIES,
      maxSize: config.L1_MAX_BYTES,
      sizeCalculation: sizeOf,
    });
    metrics.observeL1(() => ({ entries: this.cache?.size ?? 0, bytes: this.cache?.calculatedSize ?? 0 }));
  }

  get enabled(): boolean {
    return this.cache !== undefined;
  }

  get(key: string): CachedEntry | undefined {
    if (!this.cache) return undefined;
    const entry = this.cache.get(key);
    if (entry && entry.expiresAt.getTime() <= Date.now()) {
      this.cache.delete(key);
      this.metrics.l1Lookup(false);
      return undefined;
    }
    this.metrics.l1Lookup(entry !== undefined);
    return entry;
  }

  set(entry: CachedEntry): void {
    if (!this.cache) return;
    const ttl = entry.expiresAt.getTime() - Date.now();
    if (ttl > 0) this.cache.set(entry.key, entry, { ttl });
  }

  delete(keys: Iterable<string>): void {
    if (!this.cache) return;
    for (const key of keys) this.cache.delete(key);
  }

  clear(): void {
    this.cache?.clear();
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }
}
