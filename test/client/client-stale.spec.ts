import { createExerciseCacheClient } from '../../src/client';
import { cacheKeyFor } from '../../src/cache/cache-key';
import { E2e, startE2e } from '../e2e/e2e-kit';
import { pollUntil } from '../support/poll';
import { expireEntry } from '../support/seed';

/** The HTTP client with stale answers: cacheControl on lookups, stale-while-revalidate and stale-if-error in getOrGenerate. */
describe('exercise-cache/client stale answers', () => {
  let e2e: E2e;
  beforeAll(async () => {
    e2e = await startE2e();
  });
  afterAll(async () => {
    await e2e?.close();
  });
  const context = (type: string) => ({ type, difficulty: 2, topics: ['colors'] });

  async function storeExpired(type: string, secondsAgo: number, staleWhileRevalidateSeconds = 0) {
    await createExerciseCacheClient({ baseUrl: e2e.t.url! }).set(context(type), { old: type }, { staleWhileRevalidateSeconds });
    await expireEntry(e2e.db.pool, cacheKeyFor(context(type)), secondsAgo);
  }

  it('get sends cacheControl as Cache-Control: max-stale answers stale: true, only-if-cached on a miss is null', async () => {
    const client = createExerciseCacheClient({ baseUrl: e2e.t.url! });
    await storeExpired('client_max_stale', 60);
    expect(await client.get(context('client_max_stale'))).toBeNull();
    expect(await client.get(context('client_max_stale'), { cacheControl: { maxStaleSeconds: 120 } })).toMatchObject({ exercise: { old: 'client_max_stale' }, stale: true });
    expect(await client.get(context('client_nothing'), { cacheControl: { onlyIfCached: true } })).toBeNull();
    await client.set(context('client_fresh'), { n: 1 });
    expect(await client.get(context('client_fresh'), { cacheControl: { maxAgeSeconds: 600 } })).toMatchObject({ stale: false });
    expect(await client.get(context('client_fresh'), { cacheControl: { noCache: true } })).toBeNull();
  });

  it('getOrGenerate returns a stale answer at once and, holding its lease, refreshes it in the background; close() waits for it', async () => {
    await storeExpired('client_swr', 30, 600);
    const client = createExerciseCacheClient({ baseUrl: e2e.t.url! });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const generate = jest.fn(async () => {
      await gate;
      return { fresh: true };
    });
    const answers = await Promise.all([1, 2, 3].map(() => client.getOrGenerate(context('client_swr'), generate)));
    expect(answers).toEqual([{ old: 'client_swr' }, { old: 'client_swr' }, { old: 'client_swr' }]);
    await pollUntil(() => generate.mock.calls.length, (n) => n >= 1, { what: 'the background refresh' });
    open();
    await client.close();
    expect(generate).toHaveBeenCalledTimes(1);
    expect(await client.get(context('client_swr'))).toMatchObject({ exercise: { fresh: true }, stale: false });
  });

  it('a failing background refresh is logged and counted, never thrown', async () => {
    await storeExpired('client_swr_fail', 30, 600);
    const warnings: string[] = [];
    const client = createExerciseCacheClient({ baseUrl: e2e.t.url!, logger: { warn: (message) => warnings.push(message) } });
    const answer = await client.getOrGenerate(context('client_swr_fail'), async () => {
      throw new Error('provider outage');
    });
    expect(answer).toEqual({ old: 'client_swr_fail' });
    await client.close();
    expect(client.refreshFailures).toBe(1);
    expect(warnings.join('\n')).toContain('provider outage');
  });

  it('staleIfErrorSeconds: when generate() throws, the entry expired within that window answers; without it, the error', async () => {
    // One context per call: a failed generation keeps its lease until it expires (nothing was stored).
    for (const type of ['client_sie_none', 'client_sie_short', 'client_sie']) await storeExpired(type, 60);
    const failing = async () => {
      throw new Error('provider outage');
    };
    const warnings: string[] = [];
    const client = createExerciseCacheClient({ baseUrl: e2e.t.url!, logger: { warn: (message) => warnings.push(message) } });
    await expect(client.getOrGenerate(context('client_sie_none'), failing)).rejects.toThrow('provider outage');
    await expect(client.getOrGenerate(context('client_sie_short'), failing, { staleIfErrorSeconds: 30 })).rejects.toThrow('provider outage');
    expect(await client.getOrGenerate(context('client_sie'), failing, { staleIfErrorSeconds: 120 })).toEqual({ old: 'client_sie' });
    expect(warnings.join('\n')).toContain('because generate() failed: provider outage');
  });
});
