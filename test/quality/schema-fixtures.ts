import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A cloze exercise: a sentence with a blank, the answer and distractors. */
export const CLOZE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['sentence', 'answer'],
  properties: {
    sentence: { type: 'string', pattern: '___' },
    answer: { type: 'string', minLength: 1 },
    distractors: { type: 'array', items: { type: 'string' }, maxItems: 5 },
    source: { type: 'string', format: 'uri' },
  },
};

export const validCloze = (n = 1) => ({ sentence: `The sky is ___ (${n})`, answer: 'blue', distractors: ['green', 'red'] });

/** A folder holding `<type>.schema.json` files; values that are strings are written verbatim. */
export function schemaDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ec-schemas-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}
