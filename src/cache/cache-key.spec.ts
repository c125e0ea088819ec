import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  CACHE_KEY_PATTERN,
  CACHE_KEY_VERSION,
  ExerciseContext,
  cacheKeyFor,
  canonicalize,
  contextKeyFor,
  encodeContext,
  normalizeTopics,
  userContextHashFor,
} from './cache-key';

/** Characters that broke or could break a delimiter-joined encoding, plus non-ASCII letters. */
const TRICKY = ['_', ',', '"', "'", '\\', '[', ']', ' ', 'é', 'ß', 'Σ', 'σ', 'ς', 'İ', 'ı', 'ﬁ', 'K', 'Ω', '日', '本', '😀', 'a', 'B', '1'];

const trickyTopic = fc.array(fc.constantFrom(...TRICKY), { minLength: 1, maxLength: 12 }).map((chars) => chars.join(''));
const anyTopic = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
  trickyTopic,
);
/** Topics that stay non-empty after trimming, as the validation demands. */
const topic = anyTopic.filter((t) => t.trim().length > 0);
const exerciseType = fc.stringMatching(/^[a-z0-9_-]{1,50}$/);
const difficulty = fc.integer({ min: 1, max: 5 });
const context = fc.record({ type: exerciseType, difficulty, topics: fc.array(topic, { maxLength: 20 }) });

const PADDING = [' ', '  ', '\u00a0', '\u2003', '\u3000', '\ufeff'];

/** The same topic as a caller might send it: case changed per character, padded with whitespace. */
function restyled(value: string, seed: number): string {
  const chars = [...value].map((c, i) => ((seed >> i % 30) & 1 ? c.toUpperCase() : c.toLowerCase()));
  const pad = (n: number) => PADDING[n % PADDING.length].repeat(n % 3);
  return `${pad(seed)}${chars.join('')}${pad(seed >> 3)}`;
}

/** A context, and the same context with topics shuffled, restyled and repeated. */
const contextWithLookalike = context.chain((original) =>
  fc
    .record({
      order: fc.shuffledSubarray(original.topics, { minLength: original.topics.length, maxLength: original.topics.length }),
      seeds: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
      repeats: original.topics.length === 0 ? fc.constant([]) : fc.array(fc.integer({ min: 0, max: original.topics.length - 1 }), { maxLength: 5 }),
    })
    .map(({ order, seeds, repeats }) => {
      const topics = order.map((t, i) => restyled(t, seeds[i]));
      for (const [i, r] of repeats.entries()) topics.splice(seeds[20 + i] % (topics.length + 1), 0, restyled(original.topics[r], seeds[30 + i]));
      return { original, lookalike: { ...original, topics } };
    }),
);

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('cache key', () => {
  describe(cacheKeyFor.name, () => {
    it('is 64 lowercase hex characters', () => {
      fc.assert(fc.property(context, fc.integer({ min: 1, max: 20 }), (c, variant) => CACHE_KEY_PATTERN.test(cacheKeyFor(c, variant))));
    });

    it('ignores topic order, case, surrounding whitespace and repeats', () => {
      fc.assert(
        fc.property(contextWithLookalike, ({ original, lookalike }) => {
          expect(canonicalize(lookalike)).toEqual(canonicalize(original));
          expect(cacheKeyFor(lookalike)).toBe(cacheKeyFor(original));
        }),
        { numRuns: 500 },
      );
    });

    it('treats case changes of non-ASCII topics as one topic', () => {
      const pairs: [string[], string[]][] = [
        [['ΟΔΟΣ'], ['οδοσ']],
        [['ΟΔΟΣ'], ['οδος']],
        [['Straße'], ['STRASSE']],
        [['İstanbul'], ['i̇stanbul']],
        [['Ωmega'], ['ωMEGA']],
        [['CAFÉ'], ['cafe\u0301']],
        [['\u1ff7'], ['\u03a9\u0342\u0399']], // ῷ and its upper case, three code points
      ];
      for (const [a, b] of pairs) {
        expect(cacheKeyFor({ type: 'fill', difficulty: 2, topics: a })).toBe(cacheKeyFor({ type: 'fill', difficulty: 2, topics: b }));
      }
    });

    it('gives distinct canonical contexts distinct keys', () => {
      fc.assert(
        fc.property(context, context, (a, b) => {
          fc.pre(JSON.stringify(canonicalize(a)) !== JSON.stringify(canonicalize(b)));
          expect(cacheKeyFor(a)).not.toBe(cacheKeyFor(b));
        }),
        { numRuns: 500 },
      );
    });

    it('keeps contexts apart that a "_" or "," joined encoding would merge', () => {
      // Segments regrouped into topics in two ways: joined with "_" (the
      // original encoding) or "," they read the same, as contexts they differ.
      const segment = fc.array(fc.constantFrom('a', 'b', '_', ',', '"', 'é', '日'), { minLength: 1, maxLength: 4 }).map((c) => c.join(''));
      const regrouped = fc
        .record({
          segments: fc.array(segment, { minLength: 2, maxLength: 6 }),
          cutsA: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
          cutsB: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
          separator: fc.constantFrom('_', ','),
        })
        .map(({ segments, cutsA, cutsB, separator }) => {
          const group = (cuts: boolean[]) => {
            const topics = [segments[0]];
            for (let i = 1; i < segments.length; i++) {
              if (cuts[i]) topics.push(segments[i]);
              else topics[topics.length - 1] += separator + segments[i];
            }
            return topics;
          };
          return { a: { type: 'fill', difficulty: 1, topics: group(cutsA) }, b: { type: 'fill', difficulty: 1, topics: group(cutsB) } };
        });
      fc.assert(
        fc.property(regrouped, ({ a, b }) => {
          fc.pre(JSON.stringify(canonicalize(a)) !== JSON.stringify(canonicalize(b)));
          expect(encodeContext(canonicalize(a))).not.toBe(encodeContext(canonicalize(b)));
          expect(cacheKeyFor(a)).not.toBe(cacheKeyFor(b));
        }),
        { numRuns: 500 },
      );
      // The collision of the original "_" encoding, spelled out.
      expect(cacheKeyFor({ type: 'fill', difficulty: 1, topics: ['a_b'] })).not.toBe(cacheKeyFor({ type: 'fill', difficulty: 1, topics: ['a', 'b'] }));
      expect(cacheKeyFor({ type: 'fill_a', difficulty: 1, topics: ['b'] })).not.toBe(cacheKeyFor({ type: 'fill', difficulty: 1, topics: ['a_b'] }));
    });

    it('makes variant 1 the context key and gives every other variant its own key', () => {
      fc.assert(
        fc.property(context, (c) => {
          expect(cacheKeyFor(c, 1)).toBe(cacheKeyFor(c));
          expect(contextKeyFor(c)).toBe(cacheKeyFor(c));
          const keys = Array.from({ length: 20 }, (_, i) => cacheKeyFor(c, i + 1));
          expect(new Set(keys).size).toBe(20);
        }),
        { numRuns: 100 },
      );
    });

    it('gives the same key for a context and its canonical form (the service hashes canonical forms)', () => {
      fc.assert(
        fc.property(context, fc.integer({ min: 1, max: 20 }), (c, variant) => {
          const canonical = canonicalize(c);
          expect(canonicalize(canonical)).toEqual(canonical);
          expect(cacheKeyFor(canonical, variant)).toBe(cacheKeyFor(c, variant));
        }),
        { numRuns: 500 },
      );
    });

    it('is the SHA-256 of the documented encoding', () => {
      const c: ExerciseContext = { type: 'contextual_fill', difficulty: 3, topics: [' Colors', 'anatomy', 'COLORS '] };
      expect(cacheKeyFor(c)).toBe(sha256('["exercise-cache/v1","contextual_fill",3,["anatomy","colors"]]'));
      expect(cacheKeyFor(c, 2)).toBe(sha256('["exercise-cache/v1","contextual_fill",3,["anatomy","colors"],2]'));
    });
  });

  describe(encodeContext.name, () => {
    it('decodes back to exactly the canonical context, so no two contexts share an encoding', () => {
      fc.assert(
        fc.property(context, fc.integer({ min: 1, max: 20 }), (c, variant) => {
          const canonical = canonicalize(c);
          const decoded = JSON.parse(encodeContext(canonical, variant)) as unknown[];
          const expected: unknown[] = [CACHE_KEY_VERSION, canonical.type, canonical.difficulty, canonical.topics];
          if (variant !== 1) expected.push(variant);
          expect(decoded).toEqual(expected);
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('namespace', () => {
    const namespace = fc.stringMatching(/^[a-z0-9_.:-]{1,64}$/);

    it('keeps the documented key when absent and gives every namespace its own key', () => {
      const c: ExerciseContext = { type: 'contextual_fill', difficulty: 3, topics: ['colors', 'anatomy'] };
      expect(cacheKeyFor({ ...c, namespace: undefined })).toBe(sha256('["exercise-cache/v1","contextual_fill",3,["anatomy","colors"]]'));
      expect(cacheKeyFor({ ...c, namespace: 'de' })).toBe(sha256('["exercise-cache/v1","contextual_fill",3,["anatomy","colors"],1,"de"]'));
      expect(cacheKeyFor({ ...c, namespace: 'de' }, 2)).toBe(sha256('["exercise-cache/v1","contextual_fill",3,["anatomy","colors"],2,"de"]'));
    });

    it('never shares a key between namespaces, or with the context without one, for any variant', () => {
      fc.assert(
        fc.property(context, namespace, namespace, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), (c, a, b, va, vb) => {
          const key = cacheKeyFor({ ...c, namespace: a }, va);
          expect(key === cacheKeyFor(c, vb)).toBe(false);
          expect(key === cacheKeyFor({ ...c, namespace: b }, vb)).toBe(a === b && va === vb);
        }),
        { numRuns: 500 },
      );
    });

    it('is part of the similarity hash only when present', () => {
      fc.assert(
        fc.property(context, namespace, (c, ns) => {
          expect(userContextHashFor({ ...c, namespace: ns })).not.toBe(userContextHashFor(c));
          expect(userContextHashFor({ ...c, namespace: undefined })).toBe(userContextHashFor(c));
        }),
      );
    });
  });

  describe(normalizeTopics.name, () => {
    it('returns sorted, unique, trimmed topics', () => {
      fc.assert(
        fc.property(fc.array(topic, { maxLength: 20 }), (topics) => {
          const normalized = normalizeTopics(topics);
          expect([...normalized].sort()).toEqual(normalized);
          expect(new Set(normalized).size).toBe(normalized.length);
          for (const t of normalized) expect(t).toBe(t.trim());
        }),
      );
    });
  });

  describe(userContextHashFor.name, () => {
    it('ignores the type but not the difficulty or topics', () => {
      fc.assert(
        fc.property(context, exerciseType, (c, otherType) => {
          expect(userContextHashFor({ ...c, type: otherType })).toBe(userContextHashFor(c));
          expect(userContextHashFor({ ...c, difficulty: (c.difficulty % 5) + 1 })).not.toBe(userContextHashFor(c));
          expect(userContextHashFor({ ...c, topics: [...c.topics, 'an extra topic'] })).not.toBe(
            userContextHashFor({ ...c, topics: c.topics.filter((t) => normalizeTopics([t])[0] !== 'an extra topic') }),
          );
          expect(CACHE_KEY_PATTERN.test(userContextHashFor(c))).toBe(true);
        }),
      );
    });
  });
});
