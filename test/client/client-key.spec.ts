import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { cacheKeyFor as serverKeyFor } from '../../src/cache/cache-key';
import { cacheKeyFor as clientKeyFor } from '../../src/client';

const TRICKY = ['_', ',', '"', "'", '\\', '[', ']', ' ', '\u00a0', 'é', 'e\u0301', 'ß', 'ẞ', 'Σ', 'σ', 'ς', 'İ', 'ı', 'ﬁ', 'K', 'Ω', 'ͅ', '日', '😀', 'a', 'B', '1'];
const topic = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
    fc.array(fc.constantFrom(...TRICKY), { minLength: 1, maxLength: 12 }).map((chars) => chars.join('')),
  )
  .filter((t) => t.trim().length > 0);
const context_fields = () => ({
  type: fc.stringMatching(/^[a-z0-9_-]{1,50}$/),
  difficulty: fc.integer({ min: 1, max: 5 }),
  topics: fc.array(topic, { maxLength: 20 }),
});
const context = fc.record(context_fields());

describe('exercise-cache/client cacheKeyFor', () => {
  it("equals the server's cacheKeyFor for any context and variant", async () => {
    await fc.assert(
      fc.asyncProperty(context, fc.integer({ min: 1, max: 20 }), async (c, variant) => {
        expect(await clientKeyFor(c, variant)).toBe(serverKeyFor(c, variant));
      }),
      { numRuns: 2000 },
    );
  });

  it("equals the server's cacheKeyFor for any namespaced context and variant", async () => {
    const namespaced = fc.record({ ...context_fields(), namespace: fc.stringMatching(/^[a-z0-9_.:-]{1,64}$/) });
    await fc.assert(
      fc.asyncProperty(namespaced, fc.integer({ min: 1, max: 20 }), async (c, variant) => {
        expect(await clientKeyFor(c, variant)).toBe(serverKeyFor(c, variant));
      }),
      { numRuns: 1000 },
    );
  });

  it('defaults to variant 1, the key the service reports for a single-variant context', async () => {
    const c = { type: 'fill', difficulty: 2, topics: ['Colors', ' anatomy '] };
    expect(await clientKeyFor(c)).toBe(serverKeyFor(c, 1));
  });
});

describe('exercise-cache/client build', () => {
  const dist = path.resolve(__dirname, '..', '..', 'dist', 'client');

  it('requires nothing at run time but its own files (no node: modules, no server code, no packages)', () => {
    const files = readdirSync(dist).filter((name) => name.endsWith('.js'));
    expect(files).toContain('index.js');
    for (const file of files) {
      const required = [...readFileSync(path.join(dist, file), 'utf8').matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
      expect({ file, outside: required.filter((name) => !/^\.\/[\w-]+$/.test(name)) }).toEqual({ file, outside: [] });
    }
  });
});
