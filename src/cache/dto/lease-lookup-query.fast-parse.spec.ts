import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { LeaseLookupQueryDto } from './lease-lookup-query.dto';

/** The fast path may defer on valid input but must never accept what class-validator rejects. */
function acceptedByDecorators(query: Record<string, unknown>): boolean {
  return validateSync(plainToInstance(LeaseLookupQueryDto, query), { whitelist: true, forbidNonWhitelisted: true }).length === 0;
}

describe('LeaseLookupQueryDto.fastParse', () => {
  const base = { type: 'fill', difficulty: '3', topics: 'a,b' };

  it('parses lease and wait as numbers, and lookups without them as before', () => {
    expect(LeaseLookupQueryDto.fastParse({ ...base, lease: '30', wait: '10000' })).toEqual({ type: 'fill', difficulty: 3, topics: ['a', 'b'], lease: 30, wait: 10000 });
    expect(LeaseLookupQueryDto.fastParse({ ...base, lease: '300', wait: '0' })).toMatchObject({ lease: 300, wait: 0 });
    expect(LeaseLookupQueryDto.fastParse(base)).toEqual({ type: 'fill', difficulty: 3, topics: ['a', 'b'] });
  });

  it('defers everything outside the ranges to class-validator, which rejects it', () => {
    for (const extra of [{ lease: '0' }, { lease: '301' }, { lease: '1.5' }, { wait: '30001' }, { wait: '-1' }, { lease: ['5', '6'] }, { wait: '' }]) {
      const query = { ...base, ...extra };
      expect(LeaseLookupQueryDto.fastParse(query)).toBeUndefined();
      expect(acceptedByDecorators(query)).toBe(false);
    }
  });

  it('accepts only what the decorators accept, over every lease and wait value', () => {
    for (let lease = 0; lease <= 310; lease++) {
      const query = { ...base, lease: String(lease) };
      if (LeaseLookupQueryDto.fastParse(query)) expect(acceptedByDecorators(query)).toBe(true);
      else expect(lease < 1 || lease > 300).toBe(true);
    }
    for (const wait of [0, 1, 9, 10, 99, 999, 1000, 9999, 10000, 19999, 29999, 30000, 30001, 99999]) {
      const query = { ...base, lease: '5', wait: String(wait) };
      expect(LeaseLookupQueryDto.fastParse(query) !== undefined).toBe(wait <= 30000);
    }
  });
});
