import { dailyTotals } from './daily-totals';

const row = (date: string, fields: Partial<{ hits: number; nearHits: number; misses: number; entriesCreated: number; costSaved: number; totalCost: number }>) => ({
  date,
  hits: 0,
  nearHits: 0,
  misses: 0,
  entriesCreated: 0,
  costSaved: 0,
  totalCost: 0,
  ...fields,
});

describe(dailyTotals.name, () => {
  const today = new Date('2026-03-10T15:00:00Z');

  it('returns exactly `days` consecutive UTC days ending today, oldest first', () => {
    const days = dailyTotals([], 3, today);
    expect(days.map((d) => d.date)).toEqual(['2026-03-08', '2026-03-09', '2026-03-10']);
  });

  it('adds up the rows of every type and difficulty per day', () => {
    const [, , day] = dailyTotals(
      [
        row('2026-03-10', { hits: 3, misses: 1, entriesCreated: 2, costSaved: 0.003, totalCost: 0.006 }),
        row('2026-03-10', { hits: 1, nearHits: 1, misses: 2, entriesCreated: 1, costSaved: 0.004, totalCost: 0.002 }),
      ],
      3,
      today,
    );
    expect(day).toEqual({
      date: '2026-03-10',
      hits: 4,
      nearHits: 1,
      stale: 0,
      coalesced: 0,
      misses: 3,
      lookups: 8,
      hitRate: 50,
      entriesCreated: 3,
      costSaved: 0.007,
      generationCost: 0.008,
    });
  });

  it('gives a day without lookups a null hit rate, not 0 %', () => {
    const [day] = dailyTotals([row('2026-03-10', { entriesCreated: 5 })], 1, today);
    expect(day.hitRate).toBeNull();
    expect(day.entriesCreated).toBe(5);
  });

  it('ignores rows outside the window', () => {
    const days = dailyTotals([row('2026-03-01', { hits: 9 }), row('2026-03-11', { hits: 9 })], 2, today);
    expect(days.reduce((sum, d) => sum + d.hits, 0)).toBe(0);
  });

  it('counts stale and coalesced answers as lookups, never as hits', () => {
    const [day] = dailyTotals([{ ...row('2026-03-10', { hits: 2, misses: 1 }), stale: 1, coalesced: 1 }], 1, today);
    expect(day).toMatchObject({ hits: 2, stale: 1, coalesced: 1, lookups: 5, hitRate: 40 });
  });

  it("shows one slice's lookups (a namespace) with the whole cache's entries created", () => {
    const [day] = dailyTotals(
      [row('2026-03-10', { hits: 9, misses: 9, entriesCreated: 4, totalCost: 0.01 })],
      1,
      today,
      [{ date: '2026-03-10', hits: 1, nearHits: 0, stale: 1, coalesced: 0, misses: 2, costSaved: 0.003 }],
    );
    expect(day).toMatchObject({ hits: 1, stale: 1, misses: 2, lookups: 4, hitRate: 25, entriesCreated: 4, costSaved: 0.003, generationCost: 0.01 });
  });
});
