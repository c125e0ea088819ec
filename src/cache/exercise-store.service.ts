import { ExerciseSchemaViolationError } from '../quality/schemas/exercise-schema.errors';
import type { ExerciseSchemaRegistry } from '../quality/schemas/exercise-schema-registry';
import type { CacheHooks } from './cache-hooks';
import type { ScopedLogger } from './cache-logger';
import type { CacheSettings } from './cache-settings';
import type { CacheTransaction } from './cache-transaction';
import { CanonicalContext, ExerciseContext, canonicalize, keyOfCanonical, userContextHashFor } from './cache-key';
import type { EntryToStore } from './cache-entry';
import type { CacheMaintenanceService } from './cache-maintenance.service';
import {
  InvalidCacheRequestError,
  MAX_GENERATION_COST,
  MAX_GENERATION_TIME_MS,
  MAX_TTL_SECONDS,
  MAX_VARIANTS,
  RULE_MESSAGES,
  assertIntegerInRange,
  assertValidContext,
  assertValidExercise,
  assertValidGeneratorVersion,
} from './context-rules';
import type { Exercise, StoreOptions, StoredExercise } from './exercise-cache-options';
import type { ExerciseCacheRepository } from './exercise-cache.repository';
import type { InvalidationBus } from './invalidation-bus';
import type { L1Cache } from './l1-cache';
import type { VariantPicker } from './variant-picker';

/**
 * Writes exercises: checks them (shape, the type's JSON Schema, options), stores them in their
 * variant slot, and after every write tells every L1 and keeps the table near maxEntries.
 */
export class ExerciseStoreService {
  private writesSinceEviction = 0;
  private evicting?: Promise<unknown>;

  constructor(
    private readonly repository: ExerciseCacheRepository,
    private readonly settings: CacheSettings,
    private readonly l1: L1Cache,
    private readonly bus: InvalidationBus,
    private readonly variants: VariantPicker,
    private readonly maintenance: CacheMaintenanceService,
    private readonly schemas: ExerciseSchemaRegistry,
    private readonly hooks: CacheHooks,
    private readonly logger: ScopedLogger,
  ) {}

  /**
   * Every check set() makes, without storing (Cache-Control: no-store): the key the exercise would
   * be stored under (variant 1) and when it would expire.
   */
  validateStore(context: ExerciseContext, exercise: Exercise, options: StoreOptions = {}): StoredExercise {
    this.assertStorable(context, exercise, options);
    const ttlSeconds = options.ttlSeconds ?? this.settings.defaultTtlSeconds;
    return { key: keyOfCanonical(canonicalize(context), 1), expiresAt: new Date(Date.now() + ttlSeconds * 1000) };
  }

  /** Stores an exercise; with variants > 1 as a new variant while the bucket has room. */
  async set(context: ExerciseContext, exercise: Exercise, options: StoreOptions = {}): Promise<StoredExercise> {
    this.assertStorable(context, exercise, options);
    const canonical = canonicalize(context);
    const bucket = options.variants ?? this.settings.variantsPerContext;
    if (bucket === 1) return this.storeInSlot(canonical, 1, exercise, options);
    const stored = await this.repository.storeInChosenVariant(
      keyOfCanonical(canonical, 1),
      bucket,
      (live) => this.variants.slotAmong(live, bucket, [], options.generatorVersion),
      (slot) => this.entryToStore(canonical, slot, exercise, options),
    );
    await this.afterWrite(canonical, stored.key);
    return stored;
  }

  /**
   * Stores an exercise as exactly this variant of its context, replacing what that slot held.
   * Restoring an export uses it: the same line always lands on the same key, so importing a file
   * twice replaces entries instead of adding variants.
   */
  async setVariant(context: ExerciseContext, variant: number, exercise: Exercise, options: StoreOptions = {}): Promise<StoredExercise> {
    this.assertStorable(context, exercise, options);
    assertIntegerInRange(variant, 'variant', 1, MAX_VARIANTS);
    return this.storeInSlot(canonicalize(context), variant, exercise, options);
  }

  /**
   * Stores an exercise into the slot `claimSlot` returns, in one transaction with it: a lease
   * holder's store checks its token and writes, or (the claim throws) writes nothing.
   */
  async storeClaimed(
    context: ExerciseContext,
    exercise: Exercise,
    options: StoreOptions,
    claimSlot: (transaction: CacheTransaction, contextKey: string) => Promise<number>,
  ): Promise<StoredExercise> {
    this.assertStorable(context, exercise, options);
    const canonical = canonicalize(context);
    const contextKey = keyOfCanonical(canonical, 1);
    const stored = await this.repository.storeInClaimedSlot(
      contextKey,
      (transaction) => claimSlot(transaction, contextKey),
      (slot) => this.entryToStore(canonical, slot, exercise, options),
    );
    await this.afterWrite(canonical, stored.key);
    return stored;
  }

  /** Stores an already checked exercise into one slot, replacing what it held. */
  async storeInSlot(canonical: CanonicalContext, slot: number, exercise: Exercise, options: StoreOptions): Promise<StoredExercise> {
    const stored = await this.repository.upsert(this.entryToStore(canonical, slot, exercise, options));
    await this.afterWrite(canonical, stored.key);
    return stored;
  }

  /** Throws ExerciseSchemaViolationError when the exercise breaks its type's schema (counted by source). */
  assertMatchesSchema(exerciseType: string, exercise: Exercise, source: 'write' | 'generate'): void {
    const violation = this.schemas.violationOf(exerciseType, exercise);
    if (!violation) return;
    this.hooks.schemaViolation?.(exerciseType, source);
    throw new ExerciseSchemaViolationError(violation);
  }

  private assertStorable(context: ExerciseContext, exercise: Exercise, options: StoreOptions): void {
    assertValidContext(context);
    assertValidExercise(exercise);
    this.assertMatchesSchema(context.type, exercise, 'write');
    assertValidStoreOptions(options);
  }

  private entryToStore(canonical: CanonicalContext, slot: number, exercise: Exercise, options: StoreOptions): EntryToStore {
    return {
      key: keyOfCanonical(canonical, slot),
      contextKey: keyOfCanonical(canonical, 1),
      variant: slot,
      exerciseType: canonical.type,
      difficulty: canonical.difficulty,
      topics: canonical.topics,
      namespace: canonical.namespace,
      generatorVersion: options.generatorVersion,
      staleGraceSeconds: this.settings.staleIfErrorSeconds,
      staleWhileRevalidateSeconds: options.staleWhileRevalidateSeconds ?? this.settings.staleWhileRevalidateSeconds,
      userContextHash: userContextHashFor(canonical),
      exerciseJson: JSON.stringify(exercise),
      ttlSeconds: options.ttlSeconds ?? this.settings.defaultTtlSeconds,
      generationCost: options.generationCost ?? this.settings.defaultGenerationCost,
      generationTimeMs: options.generationTimeMs,
    };
  }

  /** After a committed write: drop the key from every L1, count it, keep the size bound. */
  private async afterWrite(canonical: CanonicalContext, key: string): Promise<void> {
    this.l1.delete([key]);
    await this.bus.publish({ keys: [key] }).catch(() => undefined);
    this.hooks.write?.(canonical.type);
    this.keepSizeBound();
  }

  /**
   * Between scheduled evictions the table is kept near maxEntries by evicting after every
   * evictEveryWrites writes on this replica: no COUNT(*) on the write path.
   */
  private keepSizeBound(): void {
    if (this.settings.evictEveryWrites === 0 || ++this.writesSinceEviction < this.settings.evictEveryWrites || this.evicting) return;
    this.writesSinceEviction = 0;
    this.evicting = this.maintenance
      .evictLeastRecentlyUsed(this.settings.maxEntries)
      .catch((error: Error) => this.logger.warn(`size-bound eviction failed: ${error.message}`))
      .finally(() => (this.evicting = undefined));
  }
}

/** The store options' ranges (InvalidCacheRequestError naming the option). */
export function assertValidStoreOptions(options: StoreOptions): void {
  assertIntegerInRange(options.ttlSeconds, 'ttlSeconds', 1, MAX_TTL_SECONDS);
  assertIntegerInRange(options.variants, 'variants', 1, MAX_VARIANTS);
  assertIntegerInRange(options.staleWhileRevalidateSeconds, 'staleWhileRevalidateSeconds', 0, MAX_TTL_SECONDS);
  if (options.generationCost !== undefined && !(Number.isFinite(options.generationCost) && options.generationCost >= 0 && options.generationCost <= MAX_GENERATION_COST)) {
    throw new InvalidCacheRequestError(RULE_MESSAGES.generationCost());
  }
  assertIntegerInRange(options.generationTimeMs, 'generationTimeMs', 0, MAX_GENERATION_TIME_MS);
  assertValidGeneratorVersion(options.generatorVersion);
}
