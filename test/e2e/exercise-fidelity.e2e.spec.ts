import { E2e, startE2e } from './e2e-kit';

const context = { type: 'fidelity', difficulty: 2, topics: ['keys'] };

describe('POST /exercise-cache (exercise fidelity)', () => {
  let e: E2e;
  beforeAll(async () => (e = await startE2e()));
  afterAll(() => e?.close());

  it('serves back keys named like Object.prototype members exactly as stored', async () => {
    const exercise = { toString: {}, valueOf: { a: 1 }, hasOwnProperty: 2, isPrototypeOf: [1], nested: { toLocaleString: 'x' } };
    const stored = await e.http().post('/exercise-cache').send({ context, exercise }).expect(201);
    const served = await e.http().get(`/exercise-cache/${stored.body.key}`).expect(200);
    expect(served.body.exercise).toEqual(exercise);
  });

  it.each([
    [{ constructor: 'x' }, 'exercise.constructor'],
    [{ nested: { prototype: 1 } }, 'exercise.nested.prototype'],
  ])('refuses the key that Nest would silently strip, naming it (%j), and stores nothing', async (exercise, path) => {
    const before = await e.db.pool.query('SELECT count(*)::int AS n FROM exercise_cache');
    const res = await e.http().post('/exercise-cache').send({ context: { ...context, topics: ['other'] }, exercise }).expect(400);
    expect(res.body.message.join(' ')).toContain(path);
    const after = await e.db.pool.query('SELECT count(*)::int AS n FROM exercise_cache');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});
