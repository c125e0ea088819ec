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
});
