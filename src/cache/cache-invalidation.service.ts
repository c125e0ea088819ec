import type { CacheHooks } from './cache-hooks';
import { CACHE_KEY_PATTERN, ExerciseContext, cacheKeyFor } from './cache-key';
import { InvalidCacheRequestError, RULE_MESSAGES, assertValidContext, assertValidGeneratorVersion, assertValidNamespace } from './context-rules';
import type { ExerciseCacheRepository } from './exercise-cache.repository';
import type { InvalidationBus } from './invalidation-bus';
import type { L1Cache } from './l1-cache';

/**
 * Removes entries a caller names (a key, a context, a namespace, other generator versions, all)
 * and tells every replica's L1 which keys went.
 */
export class CacheInvalidationService {
  constructor(
    private readonly repository: ExerciseCacheRepository,
    private readonly l1: L1Cache,
    private readonly bus: InvalidationBus,
    private readonly hooks: CacheHooks,
  ) {}

  /** Removes one entry by key, or every variant of a context. Returns how many were removed. */
  async invalidate(keyOrContext: string | ExerciseContext): Promise<number> {
    let keys: string[];
    if (typeof keyOrContext === 'string') {
      if (!CACHE_KEY_PATTERN.test(keyOrContext)) throw new InvalidCacheRequestError(RULE_MESSAGES.key());
      keys = (await this.repository.deleteByKey(keyOrContext)) > 0 ? [keyOrContext] : [];
    } else {
      assertValidContext(keyOrContext);
      keys = await this.repository.deleteByContext(cacheKeyFor(keyOrContext, 1));
    }
    this.l1.delete(keys);
    if (keys.length > 0) await this.bus.publish({ keys });
    this.hooks.invalidated?.(keys.length);
    return keys.length;
  }

  /** Removes every entry of one namespace. Returns how many were removed. */
  async invalidateNamespace(namespace: string): Promise<number> {
    assertValidNamespace(namespace);
    const keys = await this.repository.deleteByNamespace(namespace);
    this.l1.delete(keys);
    if (keys.length > 0) await this.bus.publish({ keys });
    this.hooks.invalidated?.(keys.length);
    return keys.length;
  }

  /**
   * Retires old generator versions: removes every entry not written with `generatorVersion`
   * (in one namespace when given). Returns how many were removed.
   */
  async retireOtherVersions(generatorVersion: string, namespace?: string): Promise<number> {
    if (generatorVersion === undefined) throw new InvalidCacheRequestError('generatorVersion is required');
    assertValidGeneratorVersion(generatorVersion);
    if (namespace !== undefined) assertValidNamespace(namespace);
    const keys = await this.repository.deleteOtherVersions(generatorVersion, namespace);
    this.l1.delete(keys);
    if (keys.length > 0) await this.bus.publish({ keys }).catch(() => undefined);
    this.hooks.invalidated?.(keys.length);
    return keys.length;
  }

  /** Removes every entry. */
  async clear(): Promise<number> {
    const removed = await this.repository.deleteAll();
    this.l1.clear();
    await this.bus.publish({ all: true });
    this.hooks.invalidated?.(removed);
    return removed;
  }
}
