import { CanonicalContext, keyOfCanonical } from './cache-key';
import { CachedEntry, isOfVersion, isStale, staleAllowanceOf } from './cache-entry';
import { ExerciseCacheRepository } from './exercise-cache.repository';
import { UsageBuffer } from './usage-buffer';

/**
 * Buckets of several exercises per context. Variant n of a context is stored under
 * cacheKeyFor(context, n) with context_key = cacheKeyFor(context, 1), so one indexed query
 * (idx_exercise_lookup) returns the whole bucket.
 */
export class VariantPicker {
  constructor(
    private readonly repository: ExerciseCacheRepository,
    private readonly usage: UsageBuffer,
  ) {}

  /**
   * A live variant not in `exclude`, chosen at random among the least used; when none is live, a
   * stale one the same way (expired within its stale-while-revalidate window or `maxStale`, as a
   * single-entry context answers); null when none is left. Another version's variant never answers.
   */
  async pickServable(context: CanonicalContext, bucket: number, exclude: ReadonlySet<string>, version?: string, maxStale?: number | true): Promise<CachedEntry | null> {
    const servable = await this.repository.findServableVariants(keyOfCanonical(context, 1), bucket, staleAllowanceOf(maxStale));
    const candidates = servable.filter((entry) => !exclude.has(entry.key) && isOfVersion(entry, version));
    const now = Date.now();
    const live = candidates.filter((entry) => !isStale(entry, now));
    return this.leastUsed(live.length > 0 ? live : candidates);
  }

  /** Where a newly generated exercise for this context goes (see slotAmong), from its live variants now. */
  async slotForNewVariant(context: CanonicalContext, bucket: number, exclude: Iterable<string>, version?: string): Promise<number> {
    if (bucket === 1) return 1;
    return this.slotAmong(await this.repository.findLiveVariants(keyOfCanonical(context, 1), bucket), bucket, exclude, version);
  }

  /**
   * Where a newly generated exercise goes, given the context's live variants: the lowest free slot
   * while the bucket has room, otherwise the slot of the least used variant (replacing it keeps the
   * bucket bounded). With a generator version, a slot holding another version counts as free: it
   * is replaced in place.
   */
  slotAmong(liveVariants: readonly CachedEntry[], bucket: number, exclude: Iterable<string>, version?: string): number {
    if (bucket === 1) return 1;
    const live = liveVariants.filter((entry) => isOfVersion(entry, version));
    const taken = new Set(live.map((entry) => entry.variant));
    for (let slot = 1; slot <= bucket; slot++) {
      if (!taken.has(slot)) return slot;
    }
    const excluded = new Set(exclude);
    const replaceable = live.filter((entry) => excluded.has(entry.key));
    return (this.leastUsed(replaceable.length > 0 ? replaceable : live) ?? live[0]).variant;
  }

  private leastUsed(entries: CachedEntry[]): CachedEntry | null {
    if (entries.length === 0) return null;
    const usesOf = (entry: CachedEntry) => entry.usageCount + this.usage.pendingUses(entry.key);
    const fewest = Math.min(...entries.map(usesOf));
    const candidates = entries.filter((entry) => usesOf(entry) === fewest);
    return candidates[Math.floor(Math.random() * candidates.length)];
  }
}
