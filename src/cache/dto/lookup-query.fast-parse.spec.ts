import { ValidationPipe } from '@nestjs/common';
import fc from 'fast-check';
import { VALIDATION_OPTIONS } from '../../common/validation-options';
import { LookupQueryDto } from './lookup-query.dto';
import { fastParseLookupQuery } from './lookup-query.fast-parse';

const pipe = new ValidationPipe(VALIDATION_OPTIONS);
const metadata = { type: 'query' as const, metatype: LookupQueryDto, data: '' };

async function viaClassValidator(query: Record<string, unknown>): Promise<Record<string, unknown> | 'rejected'> {
  try {
    return { ...((await pipe.transform({ ...query }, metadata)) as object) };
  } catch {
    return 'rejected';
  }
}

/** Query values as Fastify hands them over: strings, or arrays of strings for repeated names. */
const text = fc.oneof(
  fc.constantFrom('', '0', '1', '3', '5', '6', '2.5', '03', ' 3', 'x', 'fill', 'a,b', ',', 'a,,b', 'FILL', 'a b', '\u0000', 'ü', '20', '21'),
  fc.string({ maxLength: 70 }),
  fc.stringMatching(/^[0-9a-f]{64}$/),
);
const queryValue = fc.oneof(text, fc.array(text, { maxLength: 3 }));
const topicList = fc.array(fc.oneof(fc.constantFrom('colors', 'Anatomy', ' a ', 'x_y'), fc.string({ minLength: 1, maxLength: 66 })), { maxLength: 22 });
const key = fc.stringMatching(/^[0-9a-f]{64}$/);
/** Mostly well-formed lookups with a mistake here and there, plus arbitrary garbage. */
const query = fc.oneof(
  fc.record(
    {
      type: fc.oneof(fc.constantFrom('fill', 'contextual_fill', 'a-b_9'), queryValue),
      difficulty: fc.oneof(fc.constantFrom('1', '3', '5'), queryValue),
      topics: fc.oneof(topicList.map((t) => t.join(',')), topicList, queryValue),
      variants: fc.oneof(fc.constantFrom('1', '7', '20'), queryValue),
      exclude: fc.oneof(fc.array(key, { maxLength: 3 }).map((k) => k.join(',')), fc.array(key, { maxLength: 102 }), queryValue),
      namespace: fc.oneof(fc.constantFrom('de', 'school-42', 'a.b:c_d', 'A', 'a b', 'x'.repeat(65)), fc.stringMatching(/^[a-z0-9_.:-]{1,64}$/), queryValue),
    },
    { requiredKeys: ['type', 'difficulty'] },
  ),
  fc.dictionary(fc.constantFrom('type', 'difficulty', 'topics', 'variants', 'exclude', 'namespace', 'other'), queryValue),
);

describe('fastParseLookupQuery', () => {
  it('accepts only queries class-validator accepts, with the same result', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const fast = fastParseLookupQuery(q);
        if (fast === undefined) return;
        accepted += 1;
        const full = await viaClassValidator(q);
        expect(full).not.toBe('rejected');
        expect({ ...fast }).toEqual(full);
      }),
      { numRuns: 4000 },
    );
    expect(accepted).toBeGreaterThan(100); // the property was exercised, not vacuously true
  });

  it('takes the shortcut for plainly valid lookups', () => {
    expect(fastParseLookupQuery({ type: 'contextual_fill', difficulty: '3', topics: 'colors,anatomy' })).toEqual({
      type: 'contextual_fill',
      difficulty: 3,
      topics: ['colors', 'anatomy'],
    });
    expect(fastParseLookupQuery({ type: 'fill', difficulty: '1', topics: ['a', 'b,c'], variants: '3', exclude: 'f'.repeat(64) })).toEqual({
      type: 'fill',
      difficulty: 1,
      topics: ['a', 'b', 'c'],
      variants: 3,
      exclude: ['f'.repeat(64)],
    });
  });

  it('defers everything doubtful to class-validator', () => {
    for (const q of [
      { type: 'fill', difficulty: '2.5' },
      { type: 'Fill', difficulty: '3' },
      { type: 'fill', difficulty: '3', extra: '1' },
      { type: 'fill', difficulty: '3', topics: 'a'.repeat(65) },
      { type: 'fill', difficulty: '3', variants: '21' },
      { type: 'fill', difficulty: '3', exclude: 'nothex' },
      { type: 'fill' },
    ]) {
      expect(fastParseLookupQuery(q)).toBeUndefined();
    }
  });
});
