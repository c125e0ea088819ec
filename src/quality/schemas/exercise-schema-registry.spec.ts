import { rmSync } from 'node:fs';
import path from 'node:path';
import { CLOZE_SCHEMA, schemaDir, validCloze } from '../../../test/quality/schema-fixtures';
import { ExerciseSchemaViolationError, InvalidExerciseSchemaError } from './exercise-schema.errors';
import { ExerciseSchemaRegistry } from './exercise-schema-registry';
import { schemaRegistryOf } from './schema-registry-of-options';

describe(ExerciseSchemaRegistry.name, () => {
  const dirs: string[] = [];
  const dirWith = (files: Record<string, unknown>) => {
    const dir = schemaDir(files);
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  const violationOf = (exercise: unknown) => {
    try {
      ExerciseSchemaRegistry.fromSchemas({ cloze: CLOZE_SCHEMA }).assertValid('cloze', exercise);
    } catch (error) {
      if (error instanceof ExerciseSchemaViolationError) return error;
      throw error;
    }
    return undefined;
  };

  describe('fromDirectory', () => {
    it('reads every <type>.schema.json, ignores other files and lists the schemas by type', () => {
      const dir = dirWith({ 'cloze.schema.json': CLOZE_SCHEMA, 'quiz.schema.json': { type: 'object' }, 'README.md': '# not a schema' });
      const registry = ExerciseSchemaRegistry.fromDirectory(dir);
      expect(registry.list().map((s) => [s.exerciseType, s.file])).toEqual([
        ['cloze', path.join(dir, 'cloze.schema.json')],
        ['quiz', path.join(dir, 'quiz.schema.json')],
      ]);
      expect(registry.has('cloze')).toBe(true);
      expect(registry.has('other')).toBe(false);
    });

    it.each([
      ['not JSON', { 'cloze.schema.json': '{ "type": "object", ' }, /cloze\.schema\.json: not valid JSON/],
      ['an unknown type name', { 'cloze.schema.json': { type: 'strng' } }, /cloze\.schema\.json: not a valid JSON Schema \(draft 2020-12\): schema is invalid: .*type/],
      ['an unknown keyword (a typo)', { 'cloze.schema.json': { type: 'object', requried: ['a'] } }, /cloze\.schema\.json: not a valid JSON Schema .*unknown keyword: "requried"/],
      ['an array', { 'cloze.schema.json': [] }, /cloze\.schema\.json: a JSON Schema must be an object or a boolean/],
      ['a file name that is no exercise type', { 'Cloze Test.schema.json': { type: 'object' } }, /Cloze Test\.schema\.json: "Cloze Test" is not an exercise type/],
      ['an unknown format', { 'cloze.schema.json': { type: 'string', format: 'colour' } }, /cloze\.schema\.json: not a valid JSON Schema .*unknown format "colour"/],
    ])('refuses %s with one line naming the file and the problem', (_what, files, message) => {
      const dir = dirWith(files);
      let thrown: unknown;
      try {
        ExerciseSchemaRegistry.fromDirectory(dir);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidExerciseSchemaError);
      const text = (thrown as Error).message;
      expect(text).toMatch(message);
      expect(text).toContain(dir);
      expect(text).not.toContain('\n');
    });

    it('names a directory it cannot read', () => {
      expect(() => ExerciseSchemaRegistry.fromDirectory('/nonexistent/schemas')).toThrow(
        /^invalid exercise schema directory \/nonexistent\/schemas: cannot be read \(ENOENT/,
      );
    });
  });

  describe('fromSchemas', () => {
    it('compiles schemas given in code and refuses a bad one naming its type', () => {
      expect(ExerciseSchemaRegistry.fromSchemas({ cloze: CLOZE_SCHEMA, quiz: true }).list().map((s) => s.exerciseType)).toEqual(['cloze', 'quiz']);
      expect(() => ExerciseSchemaRegistry.fromSchemas({ quiz: { type: 'object', required: 'answer' } })).toThrow(
        /^invalid exercise schema for type "quiz": not a valid JSON Schema \(draft 2020-12\): schema is invalid: data\/required must be array$/,
      );
      expect(() => ExerciseSchemaRegistry.fromSchemas({ 'Not A Type': {} })).toThrow('invalid exercise schema for type "Not A Type": not an exercise type');
    });
  });

  describe('assertValid', () => {
    it('accepts a matching exercise, and anything for a type without a schema', () => {
      expect(violationOf(validCloze())).toBeUndefined();
      expect(() => ExerciseSchemaRegistry.fromSchemas({ cloze: CLOZE_SCHEMA }).assertValid('quiz', { anything: [1, 2] })).not.toThrow();
    });

    it('names the JSON pointer and the rule of a wrong value', () => {
      const error = violationOf({ ...validCloze(), distractors: ['green', 7] });
      expect(error?.violation).toEqual({
        exerciseType: 'cloze',
        pointer: '/distractors/1',
        rule: 'type',
        schemaPath: '#/properties/distractors/items/type',
        problem: 'must be string',
      });
      expect(error?.message).toBe('exercise does not match the schema of type "cloze": at /distractors/1 must be string (rule "type", #/properties/distractors/items/type)');
      expect(error?.getStatus()).toBe(400);
    });

    it('points at a missing required property itself', () => {
      const error = violationOf({ sentence: 'The sky is ___' });
      expect(error?.violation).toMatchObject({ pointer: '/answer', rule: 'required' });
    });

    it('checks formats (ajv-formats) and patterns', () => {
      expect(violationOf({ ...validCloze(), source: 'not a uri' })?.violation).toMatchObject({ pointer: '/source', rule: 'format' });
      expect(violationOf({ ...validCloze(), sentence: 'no blank here' })?.violation).toMatchObject({ pointer: '/sentence', rule: 'pattern' });
    });

    it('escapes "/" and "~" in property names as RFC 6901 says', () => {
      const registry = ExerciseSchemaRegistry.fromSchemas({ odd: { type: 'object', required: ['a/b~c'] } });
      expect(registry.violationOf('odd', {})).toMatchObject({ pointer: '/a~1b~0c', rule: 'required' });
    });
  });

  describe('schemaRegistryOf (package and Nest options)', () => {
    it('builds the registry from exerciseSchemas or schemasDir, passes a registry through, and refuses two at once', () => {
      expect(schemaRegistryOf({})).toBeUndefined();
      expect(schemaRegistryOf({ exerciseSchemas: { cloze: CLOZE_SCHEMA } })?.has('cloze')).toBe(true);
      expect(schemaRegistryOf({ schemasDir: dirWith({ 'quiz.schema.json': { type: 'object' } }) })?.has('quiz')).toBe(true);
      const registry = ExerciseSchemaRegistry.empty();
      expect(schemaRegistryOf({ schemas: registry })).toBe(registry);
      expect(() => schemaRegistryOf({ exerciseSchemas: {}, schemasDir: '/tmp' })).toThrow(
        'invalid exercise schema options exerciseSchemas and schemasDir: give only one of schemas, exerciseSchemas and schemasDir',
      );
      expect(() => schemaRegistryOf({ schemas: {} as ExerciseSchemaRegistry })).toThrow(/option schemas: must be an ExerciseSchemaRegistry/);
    });
  });
});
