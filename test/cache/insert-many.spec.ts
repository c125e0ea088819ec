import { ExerciseContext, canonicalize, keyOfCanonical, userContextHashFor } from '../../src/cache/cache-key';
import type { EntryToStore } from '../../src/cache/cache-entry';
import { ExerciseCacheRepository } from '../../src/cache/exercise-cache.repository';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { rowByKey } from './cache-test-kit';

function entryOf(context: ExerciseContext, exercise: Record<string, unknown>, extra: Partial<EntryToStore> = {}): EntryToStore {
  const canonical = canonicalize(context);
  return {
    key: keyOfCanonical(canonical, 1),
    contextKey: keyOfCanonical(canonical, 1),
    variant: 1,
    exerciseType: canonical.type,
    difficulty: canonical.difficulty,
    topics: canonical.topics,
    namespace: canonical.namespace,
    userContextHash: userContextHashFor(canonical),
    exerciseJson: JSON.stringify(exercise),
    ttlSeconds: 3600,
    generationCost: 0.003,
    generationTimeMs: 1500,
    ...extra,
  };
}

describe(`${ExerciseCacheRepository.name}.insertMany`, () => {
  let db: TestDatabase;
  let t: TestApp;
  let repository: ExerciseCacheRepository;
  let cache: ExerciseCacheService;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db.url, { L1_ENABLED: 'false' });
    repository = t.app.get(ExerciseCacheRepository);
    cache = t.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('stores every entry so that the service serves it, topics and namespace included', async () => {
    const plain = { type: 'bulk_plain', difficulty: 2, topics: ['Beta', 'alpha'] };
    const spaced = { type: 'bulk_spaced', difficulty: 4, topics: ['one'], namespace: 'tenant-a' };
    await repository.insertMany([entryOf(plain, { n: 1 }), entryOf(spaced, { n: 2 }, { generatorVersion: 'v7' })]);

    expect(await cache.get(plain)).toEqual({ n: 1 });
    expect(await cache.get(spaced)).toEqual({ n: 2 });
    expect(await cache.get(spaced, { generatorVersion: 'v7' })).toEqual({ n: 2 });
    const row = await rowByKey(db.pool, entryOf(plain, {}).key);
    expect(row).toMatchObject({ topics: ['alpha', 'beta'], usage_count: 0, generation_cost: '0.003000', generation_time_ms: 1500 });
  });

  it('refuses a key that is already stored and stores nothing of that call', async () => {
    const stored = { type: 'bulk_existing', difficulty: 1, topics: ['x'] };
    const fresh = { type: 'bulk_existing', difficulty: 1, topics: ['y'] };
    await repository.insertMany([entryOf(stored, { version: 1 })]);

    await expect(repository.insertMany([entryOf(fresh, { version: 1 }), entryOf(stored, { version: 2 })])).rejects.toThrow(/duplicate key/);
    expect(await cache.get(stored)).toEqual({ version: 1 });
    expect(await cache.get(fresh)).toBeNull();
  });

  it('does nothing for no entries', async () => {
    await expect(repository.insertMany([])).resolves.toBeUndefined();
  });
});
