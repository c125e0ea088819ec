import { InvalidCacheRequestError } from '../cache/context-rules';
import { createExerciseCache } from './create-exercise-cache';

const NOWHERE = 'postgresql://nobody@127.0.0.1:1/none';

describe(createExerciseCache.name, () => {
  it.each(['maxEntriez', 'ttl'])('refuses the unknown option %s, naming it, instead of ignoring it', (name) => {
    const create = () => createExerciseCache({ databaseUrl: NOWHERE, [name]: true } as never);
    expect(create).toThrow(InvalidCacheRequestError);
    expect(create).toThrow(`${name} is not an option of exercise-cache`);
  });

  it.each([-1, 2_592_001, 1.5, '60'])('refuses staleWhileRevalidateSeconds: %p, naming the option and its range', (value) => {
    const create = () => createExerciseCache({ databaseUrl: NOWHERE, staleWhileRevalidateSeconds: value } as never);
    expect(create).toThrow(InvalidCacheRequestError);
    expect(create).toThrow('staleWhileRevalidateSeconds must be an integer from 0 to 2592000');
  });

  describe('maintenance', () => {
    it.each([
      ['yes', 'maintenance must be true, false or an object with cleanupIntervalMs, evictIntervalMs, refreshIntervalMs'],
      [1, 'maintenance must be true, false or an object'],
      [{ cleanupIntervalMs: -1 }, 'maintenance.cleanupIntervalMs must be 0 (not scheduled) or an integer from 1000 to 604800000'],
      [{ evictIntervalMs: 999 }, 'maintenance.evictIntervalMs must be 0 (not scheduled) or an integer from 1000'],
      [{ refreshIntervalMs: '60000' }, 'maintenance.refreshIntervalMs must be 0 (not scheduled) or an integer'],
      [{ cleanupIntervalMs: 1500.5 }, 'maintenance.cleanupIntervalMs must be'],
      [{ cleanupEvery: 1000 }, 'maintenance.cleanupEvery is not an option of maintenance'],
      [{ maxEntries: 10 }, 'maintenance.maxEntries is not an option: eviction keeps the cache option maxEntries'],
    ])('refuses maintenance: %p with a typed error naming the field', (maintenance, message) => {
      const create = () => createExerciseCache({ databaseUrl: NOWHERE, maintenance } as never);
      expect(create).toThrow(InvalidCacheRequestError);
      expect(create).toThrow(message);
    });

    it.each([true, false, {}, { cleanupIntervalMs: 0, evictIntervalMs: 1000, refreshIntervalMs: 604_800_000 }])('accepts maintenance: %p', async (maintenance) => {
      const cache = createExerciseCache({ databaseUrl: NOWHERE, maintenance, connectTimeoutMs: 100, logger: false });
      await cache.close();
    });
  });
});
