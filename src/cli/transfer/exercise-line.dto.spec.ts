import { parseExerciseLine } from './exercise-line.dto';

const valid = { context: { type: 'fill', difficulty: 2, topics: ['a'] }, exercise: { q: 1 } };

describe(parseExerciseLine.name, () => {
  it('accepts a line with only context and exercise', () => {
    const parsed = parseExerciseLine(JSON.stringify(valid));
    expect(parsed.ok).toBe(true);
  });

  it('accepts ttlSeconds, generationCost and variant', () => {
    const parsed = parseExerciseLine(JSON.stringify({ ...valid, ttlSeconds: 60, generationCost: 0.01, variant: 3 }));
    expect(parsed).toMatchObject({ ok: true, line: { ttlSeconds: 60, generationCost: 0.01, variant: 3 } });
  });

  it.each([
    ['{"context": ', /^invalid JSON: /],
    ['[1, 2]', /^a line must be a JSON object/],
    ['"text"', /^a line must be a JSON object/],
    [JSON.stringify({ exercise: { q: 1 } }), /^context is required/],
    [JSON.stringify({ ...valid, context: { ...valid.context, difficulty: 7 } }), /^context\.difficulty must be an integer from 1 to 5$/],
    [JSON.stringify({ ...valid, exercise: [1] }), /^exercise must be a JSON object/],
    [JSON.stringify({ ...valid, ttlSeconds: 0 }), /^ttlSeconds must be an integer from 1 to 2592000$/],
    [JSON.stringify({ ...valid, variant: 21 }), /^variant must be an integer from 1 to 20$/],
    [JSON.stringify({ ...valid, variants: 2 }), /property variants should not exist$/],
    [JSON.stringify({ ...valid, context: { ...valid.context, topics: ['ok', ''] } }), /^context\.topics/],
    ['{"context":{"type":"fill","difficulty":2,"topics":[]},"exercise":{"q":1,"q":2}}', /^exercise\.q: the key "q" appears more than once/],
    [JSON.stringify({ ...valid, exercise: { list: new Array(10_000).fill(0) } }), /^exercise must hold at most 10000 values/],
    [JSON.stringify({ ...valid, toString: 1 }), /^toString: property toString should not exist$/],
  ])('rejects %s with a reason naming the problem', (text, reason) => {
    const parsed = parseExerciseLine(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
  });
});
