import { cacheKeyFor } from '../../src/cache/cache-key';
import { ExerciseCacheService } from '../../src/cache/exercise-cache.service';
import { L1Cache } from '../../src/cache/l1-cache';
import { ExerciseTransferRepository } from '../../src/cache/exercise-transfer.repository';
import { QuarantineService } from '../../src/quality/quarantine/quarantine.service';
import { contextFor, fakeGenerator } from '../cache/cache-test-kit';
import { E2e, startE2e } from '../e2e/e2e-kit';
import { TestApp, startTestApp } from '../support/test-app';
import { pollUntil } from '../support/poll';

const lookupQuery = (context: { type: string; difficulty: number; topics: readonly string[] }) => ({ ...context, topics: context.topics.join(',') });

/**
 * Two replicas (A serves HTTP, B is a second application) on one database, both with L1 on: a
 * report through A must stop both from serving the entry, at once on A and as soon as B's
 * listener hears of it (LISTEN/NOTIFY is asynchronous, so B is polled).
 */
describe('reports and quarantine', () => {
  let e2e: E2e;
  let b: TestApp;
  let cacheA: ExerciseCacheService;
  let cacheB: ExerciseCacheService;
  const quarantinedAt = async (key: string) =>
    (await e2e.db.pool.query<{ quarantined_at: Date | null }>('SELECT quarantined_at FROM exercise_cache WHERE cache_key = $1', [key])).rows[0]?.quarantined_at;

  /** Looks the context up on a replica until the entry sits in its L1 (a notification may overtake the first read). */
  async function inL1(app: TestApp['app'], cache: ExerciseCacheService, context: ReturnType<typeof contextFor>) {
    const key = cacheKeyFor(context);
    await pollUntil(async () => {
      await cache.get(context);
      return app.get(L1Cache).get(key) !== undefined;
    }, Boolean, { what: 'the entry to be held in L1' });
  }

  beforeAll(async () => {
    e2e = await startE2e({ L1_ENABLED: 'true' });
    b = await startTestApp(e2e.db.url, { L1_ENABLED: 'true' });
    cacheA = e2e.t.app.get(ExerciseCacheService);
    cacheB = b.app.get(ExerciseCacheService);
  });
  afterAll(async () => {
    await b?.close();
    await e2e?.close();
  });

  it('a report makes the entry unserved on both replicas, and the next getOrGenerate regenerates it', async () => {
    const context = contextFor('quarantine_replicas', ['colors', 'sky']);
    const key = cacheKeyFor(context);
    const generate = fakeGenerator('replicas');
    expect(await cacheA.getOrGenerate(context, generate)).toMatchObject({ id: 'replicas-1' });
    await inL1(e2e.t.app, cacheA, context);
    await inL1(b.app, cacheB, context);

    const report = await e2e.http().post(`/exercise-cache/${key}/report`).send({ reason: 'the answer is wrong', reporter: 'learner-1' }).expect(201);
    expect(report.body).toEqual({ key, reports: 1, quarantined: true });
    expect(await quarantinedAt(key)).toBeInstanceOf(Date);

    // A: at once, by context, key and near miss.
    expect(await cacheA.get(context)).toBeNull();
    await e2e.http().get(`/exercise-cache/${key}`).expect(404);
    await e2e.http().get('/exercise-cache').query(lookupQuery(context)).expect(404);
    const near = await e2e.http().get('/exercise-cache/near').query({ ...lookupQuery({ ...context, topics: ['colors'] }) }).expect(200);
    expect(near.body).toEqual([]);
    // B: as soon as it has heard of it, by context and key.
    await pollUntil(async () => (await cacheB.get(context)) === null, Boolean, { what: 'B to stop serving the quarantined entry' });
    expect(await cacheB.getByKey(key)).toBeNull();
    expect(await cacheB.findByTopics(context)).toEqual([]);
    expect(await cacheB.findSimilar(context)).toEqual([]);
    // Not exported either.
    const exported: unknown[] = [];
    for await (const batch of e2e.t.app.get(ExerciseTransferRepository).exportLiveEntries(100)) exported.push(...batch);
    expect(exported).toEqual([]);

    // The next getOrGenerate (on B) generates that slot again; the new exercise is served everywhere.
    expect(await cacheB.getOrGenerate(context, generate)).toMatchObject({ id: 'replicas-2' });
    expect(generate).toHaveBeenCalledTimes(2);
    expect(await quarantinedAt(key)).toBeNull();
    await pollUntil(async () => (await cacheA.get(context))?.id === 'replicas-2', Boolean, { what: 'A to serve the regenerated exercise' });
    // Reports of the replaced exercise do not count against the new one: the same learner may report it.
    await e2e.http().post(`/exercise-cache/${key}/report`).send({ reason: 'wrong again', reporter: 'learner-1' }).expect(201);
  });

  it('a lookup with a lease treats a quarantined entry as a miss and hands out the lease to regenerate it', async () => {
    const context = contextFor('quarantine_lease');
    const { key } = await cacheA.set(context, { v: 'bad' });
    await e2e.http().post(`/exercise-cache/${key}/report`).send({ reason: 'wrong' }).expect(201);
    const miss = await e2e.http().get('/exercise-cache').query({ ...lookupQuery(context), lease: 30 }).expect(404);
    const token = miss.headers['x-cache-lease'];
    expect(token).toEqual(expect.any(String));
    await e2e.http().post('/exercise-cache').set('X-Cache-Lease', token).send({ context, exercise: { v: 'good' } }).expect(201);
    expect((await e2e.http().get('/exercise-cache').query(lookupQuery(context)).expect(200)).body.exercise).toEqual({ v: 'good' });
    expect(await quarantinedAt(key)).toBeNull();
  });

  it('a quarantined variant is never picked, and its slot is generated again', async () => {
    const context = contextFor('quarantine_variants');
    await cacheA.set(context, { v: 'first' }, { variants: 2 });
    const second = await cacheA.set(context, { v: 'second' }, { variants: 2 });
    const first = cacheKeyFor(context, 1);
    await e2e.http().post(`/exercise-cache/${second.key}/report`).send({ reason: 'typo' }).expect(201);
    for (let i = 0; i < 20; i++) expect(await cacheA.get(context, { variants: 2 })).toEqual({ v: 'first' });

    const generate = fakeGenerator('slot');
    const fresh = await cacheA.getOrGenerate(context, generate, { variants: 2, exclude: [first] });
    expect(fresh).toMatchObject({ id: 'slot-1' });
    expect(await quarantinedAt(second.key)).toBeNull();
    expect((await cacheA.getByKey(second.key))?.exercise).toEqual(fresh);
  });

  it('lists quarantined entries with their reasons; release serves the entry again', async () => {
    const context = contextFor('quarantine_release');
    const { key } = await cacheA.set(context, { question: 'Is the sky green?', answer: 'yes' });
    await e2e.http().post(`/exercise-cache/${key}/report`).send({ reason: 'the sky is blue', reporter: 'r1' }).expect(201);

    const list = await e2e.http().get('/exercise-cache/quarantine').expect(200);
    const listed = list.body.find((entry: { key: string }) => entry.key === key);
    expect(listed).toMatchObject({
      key,
      exerciseType: context.type,
      exercise: { question: 'Is the sky green?', answer: 'yes' },
      reports: [{ reason: 'the sky is blue', reporter: 'r1', reportedAt: expect.any(String) }],
    });

    const released = await e2e.http().post(`/exercise-cache/quarantine/${key}/release`).expect(200);
    expect(released.body).toEqual({ key, released: true });
    expect(await cacheA.get(context)).toEqual({ question: 'Is the sky green?', answer: 'yes' });
    await pollUntil(async () => (await cacheB.get(context)) !== null, Boolean, { what: 'B to serve the released entry' });
    expect((await e2e.http().get('/exercise-cache/quarantine').expect(200)).body.map((e: { key: string }) => e.key)).not.toContain(key);
    await e2e.http().post(`/exercise-cache/quarantine/${key}/release`).expect(404);
    // The same reporter cannot report that version twice; someone else can, and it goes back in.
    await e2e.http().post(`/exercise-cache/${key}/report`).send({ reason: 'still wrong', reporter: 'r1' }).expect(409);
    expect((await e2e.http().post(`/exercise-cache/${key}/report`).send({ reason: 'still wrong', reporter: 'r2' }).expect(201)).body).toEqual({
      key,
      reports: 1,
      quarantined: true,
    });
  });

  it('DELETE /exercise-cache/quarantine/{key} removes a quarantined entry and nothing else', async () => {
    const bad = await cacheA.set(contextFor('quarantine_delete'), { q: 'bad' });
    const good = await cacheA.set(contextFor('quarantine_keep'), { q: 'good' });
    await e2e.http().delete(`/exercise-cache/quarantine/${good.key}`).expect(404);
    expect(await cacheA.getByKey(good.key)).not.toBeNull();

    await e2e.http().post(`/exercise-cache/${bad.key}/report`).send({ reason: 'bad' }).expect(201);
    await e2e.http().delete(`/exercise-cache/quarantine/${bad.key}`).expect(204);
    expect((await e2e.db.pool.query('SELECT 1 FROM exercise_cache WHERE cache_key = $1', [bad.key])).rowCount).toBe(0);
    await e2e.http().delete(`/exercise-cache/quarantine/${bad.key}`).expect(404);
  });

  it('refuses bad reports with a 400 naming the field, and reports on no live entry with a 404', async () => {
    const { key } = await cacheA.set(contextFor('quarantine_bad_input'), { q: 1 });
    const post = (body: unknown, target = key) => e2e.http().post(`/exercise-cache/${target}/report`).send(body as object);
    expect((await post({}).expect(400)).body.message).toEqual(['reason must be text of 1..500 characters']);
    expect((await post({ reason: '' }).expect(400)).body.message).toEqual(['reason must be text of 1..500 characters']);
    expect((await post({ reason: 'x'.repeat(501) }).expect(400)).body.message).toEqual(['reason must be text of 1..500 characters']);
    expect((await post({ reason: '   ' }).expect(400)).body.message).toEqual(['reason must be text of 1..500 characters (without NUL characters)']);
    expect((await post({ reason: 'ok', reporter: 7 }).expect(400)).body.message).toEqual(['reporter must be text of 1..200 characters']);
    await post({ reason: 'ok' }, 'not-a-key').expect(400);
    await post({ reason: 'ok' }, 'f'.repeat(64)).expect(404);
    expect(await quarantinedAt(key)).toBeNull();
    expect((await e2e.db.pool.query('SELECT count(*)::int AS n FROM exercise_cache_reports WHERE cache_key = $1', [key])).rows[0].n).toBe(0);
  });

  it('keeps the quarantine across a restart; cleanup and eviction still remove quarantined rows', async () => {
    const context = contextFor('quarantine_restart');
    const { key } = await cacheB.set(context, { q: 1 });
    await b.app.get(QuarantineService).report(key, { reason: 'wrong' });
    await b.close();
    b = await startTestApp(e2e.db.url, { L1_ENABLED: 'true' });
    cacheB = b.app.get(ExerciseCacheService);
    expect(await cacheB.get(context)).toBeNull();
    expect(await quarantinedAt(key)).toBeInstanceOf(Date);

    await e2e.db.pool.query("UPDATE exercise_cache SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE cache_key = $1", [key]);
    await cacheB.cleanupExpired();
    expect((await e2e.db.pool.query('SELECT 1 FROM exercise_cache WHERE cache_key = $1', [key])).rowCount).toBe(0);

    const evicted = await cacheB.set(contextFor('quarantine_evict'), { q: 2 });
    await b.app.get(QuarantineService).report(evicted.key, { reason: 'wrong' });
    await cacheB.evictLeastRecentlyUsed(0);
    expect((await e2e.db.pool.query('SELECT 1 FROM exercise_cache WHERE cache_key = $1', [evicted.key])).rowCount).toBe(0);
  });

  it('with QUARANTINE_AFTER_REPORTS=2, one report per reporter counts and the second reporter quarantines', async () => {
    const two = await startTestApp(e2e.db.url, { QUARANTINE_AFTER_REPORTS: '2' });
    try {
      const cache = two.app.get(ExerciseCacheService);
      const quarantine = two.app.get(QuarantineService);
      const context = contextFor('quarantine_threshold');
      const { key } = await cache.set(context, { q: 1 });
      expect(await quarantine.report(key, { reason: 'hmm', reporter: 'a' })).toEqual({ outcome: 'recorded', key, reports: 1, quarantined: false });
      expect(await cache.get(context)).toEqual({ q: 1 });
      expect(await quarantine.report(key, { reason: 'again', reporter: 'a' })).toEqual({ outcome: 'duplicate' });
      expect(await quarantine.report(key, { reason: 'wrong', reporter: 'b' })).toEqual({ outcome: 'recorded', key, reports: 2, quarantined: true });
      expect(await cache.get(context)).toBeNull();
    } finally {
      await two.close();
    }
  });

  it('counts reports and quarantined entries per type in the statistics and in /metrics', async () => {
    const context = contextFor('quarantine_stats');
    const { key } = await cacheA.set(context, { q: 1 });
    await e2e.http().post(`/exercise-cache/${key}/report`).send({ reason: 'wrong' }).expect(201);
    await cacheA.set(contextFor('quarantine_stats', ['other']), { q: 2 });

    const types = (await e2e.http().get('/exercise-cache/stats/types').expect(200)).body;
    expect(types.find((row: { exerciseType: string }) => row.exerciseType === context.type)).toMatchObject({
      totalEntries: 2,
      reports: 1,
      quarantinedEntries: 1,
    });
    const overview = (await e2e.http().get('/exercise-cache/stats').expect(200)).body;
    expect(overview.reports).toBeGreaterThanOrEqual(1);
    expect(overview.quarantinedEntries).toBeGreaterThanOrEqual(1);
    const metrics = (await e2e.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(new RegExp(`exercise_cache_reports_total\\{exercise_type="${context.type}"\\} 1`));
    expect(metrics).toMatch(new RegExp(`exercise_cache_quarantined_total\\{exercise_type="${context.type}"\\} 1`));
    expect(metrics).toMatch(/exercise_cache_quarantine_resolved_total\{action="release"\} [1-9]/);
  });
});
