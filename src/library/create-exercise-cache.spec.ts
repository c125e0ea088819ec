import { InvalidCacheRequestError } from '../cache/context-rules';
import { createExerciseCache } from './create-exercise-cache';

describe(createExerciseCache.name, () => {
  it.each(['maintenance', 'maxEntriez', 'ttl'])('refuses the unknown option %s, naming it, instead of ignoring it', (name) => {
    const create = () => createExerciseCache({ databaseUrl: 'postgresql://nobody@127.0.0.1:1/none', [name]: true } as never);
    expect(create).toThrow(InvalidCacheRequestError);
    expect(create).toThrow(`${name} is not an option of exercise-cache`);
  });
});
