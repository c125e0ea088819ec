import { LRUCache } from 'lru-cache';
import type { CachedEntry } from './cache-entry';
import type { CacheHooks } from './cache-hooks';
import type { CacheSettings } from './cache-settings';

/** How many recent key deletions a read ticket can be checked against; older tickets are refused. */
const RECENT_DELETIONS = 1024;

/** What the cache looked like when a database read started; see L1Cache.readTicket(). */
export interface L1ReadTicket {
  clears: number;
  deletions: number;
}

/** Rough in-memory size of an entry: its JSON text (2 bytes a character) plus fixed overhead. */
const sizeOf = (entry: CachedEntry) => 2 * JSON.stringify(entry.exercise).length + 600;

/**
 * In-process LRU in front of PostgreSQL, bounded in entries and bytes. An entry is never served
 * past its expires_at; writes, invalidations and evictions on any replica remove entries here
 * through the InvalidationBus.
 */
export class L1Cache {
  private readonly cache?: LRUCache<string, CachedEntry>;
  /** Counts of clear() calls and of deleted keys; recentDeletions[n % size] is deleted key number n. */
  private clears = 0;
  private deletions = 0;
  private readonly recentDeletions: string[] = new Array<string>(RECENT_DELETIONS);

  constructor(
    settings: Pick<CacheSettings, 'l1Enabled' | 'l1MaxEntries' | 'l1MaxBytes'>,
    private readonly metrics: CacheHooks = {},
  ) {
    if (!settings.l1Enabled) return;
    this.cache = new LRUCache<string, CachedEntry>({
      max: settings.l1MaxEntries,
      maxSize: settings.l1MaxBytes,
      sizeCalculation: sizeOf,
    });
    metrics.observeL1?.(() => ({ entries: this.cache?.size ?? 0, bytes: this.cache?.calculatedSize ?? 0 }));
  }

  get enabled(): boolean {
    return this.cache !== undefined;
  }

  get(key: string): CachedEntry | undefined {
    if (!this.cache) return undefined;
    const entry = this.cache.get(key);
    if (entry && entry.expiresAt.getTime() <= Date.now()) {
      this.cache.delete(key);
      this.metrics.l1Lookup?.(false);
      return undefined;
    }
    this.metrics.l1Lookup?.(entry !== undefined);
    return entry;
  }

  /**
   * Take this before reading an entry from the database and pass it to set(). A notification can
   * overtake the query: the key is deleted here while the read is in flight and the read then
   * returns the old row. set() sees from the ticket that the key was deleted (or everything was
   * cleared) since the read began and does not keep that row.
   */
  readTicket(): L1ReadTicket {
    return { clears: this.clears, deletions: this.deletions };
  }

  set(entry: CachedEntry, ticket: L1ReadTicket): void {
    if (!this.cache || this.invalidatedSince(entry.key, ticket)) return;
    const ttl = entry.expiresAt.getTime() - Date.now();
    if (ttl > 0) this.cache.set(entry.key, entry, { ttl });
  }

  delete(keys: Iterable<string>): void {
    if (!this.cache) return;
    for (const key of keys) {
      this.recentDeletions[this.deletions % RECENT_DELETIONS] = key;
      this.deletions += 1;
      this.cache.delete(key);
    }
  }

  clear(): void {
    this.clears += 1;
    this.cache?.clear();
  }

  private invalidatedSince(key: string, ticket: L1ReadTicket): boolean {
    if (ticket.clears !== this.clears) return true;
    if (this.deletions - ticket.deletions > RECENT_DELETIONS) return true; // too many to check: assume so
    for (let n = ticket.deletions; n < this.deletions; n++) {
      if (this.recentDeletions[n % RECENT_DELETIONS] === key) return true;
    }
    return false;
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }
}
