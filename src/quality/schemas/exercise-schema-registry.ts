import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { MAX_TYPE_LENGTH, TYPE_PATTERN } from '../../cache/context-rules';
import { ExerciseSchemaViolationError, InvalidExerciseSchemaError, SchemaViolation } from './exercise-schema.errors';

/** JSON Schemas (draft 2020-12) by exercise type. */
export type ExerciseSchemas = Record<string, Record<string, unknown> | boolean>;

export const SCHEMA_FILE_SUFFIX = '.schema.json';

export interface ExerciseSchemaInfo {
  exerciseType: string;
  /** The file it came from, when it came from EXERCISE_SCHEMAS_DIR / schemasDir. */
  file?: string;
  schema: Record<string, unknown> | boolean;
}

interface CompiledSchema extends ExerciseSchemaInfo {
  validate: ValidateFunction;
}

/**
 * One JSON Schema per exercise type, compiled once when the registry is built; a type without a
 * schema accepts any exercise. Framework-free: the Nest module, the CLI and the library build it
 * from a directory of `<type>.schema.json` files or from schemas in code.
 */
export class ExerciseSchemaRegistry {
  private readonly compiled = new Map<string, CompiledSchema>();

  private constructor() {}

  static empty(): ExerciseSchemaRegistry {
    return new ExerciseSchemaRegistry();
  }

  /** Throws InvalidExerciseSchemaError naming the type and the problem when a schema cannot be compiled. */
  static fromSchemas(schemas: ExerciseSchemas): ExerciseSchemaRegistry {
    const registry = new ExerciseSchemaRegistry();
    const ajv = newAjv();
    if (!schemas || typeof schemas !== 'object' || Array.isArray(schemas)) {
      throw new InvalidExerciseSchemaError('option exerciseSchemas', 'must be an object of JSON Schemas by exercise type');
    }
    for (const [exerciseType, schema] of Object.entries(schemas)) {
      if (!TYPE_PATTERN.test(exerciseType)) {
        throw new InvalidExerciseSchemaError(`for type "${exerciseType}"`, `not an exercise type (1..${MAX_TYPE_LENGTH} characters of a-z, 0-9, "_" and "-")`);
      }
      registry.add(ajv, { exerciseType, schema }, `for type "${exerciseType}"`);
    }
    return registry;
  }

  /**
   * Every `<type>.schema.json` in `dir` (other files are ignored). Throws InvalidExerciseSchemaError
   * naming the directory or the file and what is wrong with it.
   */
  static fromDirectory(dir: string): ExerciseSchemaRegistry {
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => name.endsWith(SCHEMA_FILE_SUFFIX)).sort();
    } catch (error) {
      throw new InvalidExerciseSchemaError(`directory ${dir}`, `cannot be read (${(error as Error).message})`);
    }
    const registry = new ExerciseSchemaRegistry();
    const ajv = newAjv();
    for (const name of names) {
      const file = path.join(dir, name);
      const exerciseType = name.slice(0, -SCHEMA_FILE_SUFFIX.length);
      if (!TYPE_PATTERN.test(exerciseType)) {
        throw new InvalidExerciseSchemaError(`file ${file}`, `"${exerciseType}" is not an exercise type (1..${MAX_TYPE_LENGTH} characters of a-z, 0-9, "_" and "-")`);
      }
      let schema: unknown;
      try {
        schema = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new InvalidExerciseSchemaError(`file ${file}`, `not valid JSON (${(error as Error).message})`);
      }
      registry.add(ajv, { exerciseType, file, schema: schema as ExerciseSchemaInfo['schema'] }, `file ${file}`);
    }
    return registry;
  }

  get size(): number {
    return this.compiled.size;
  }

  has(exerciseType: string): boolean {
    return this.compiled.has(exerciseType);
  }

  /** The schemas, by type name. */
  list(): ExerciseSchemaInfo[] {
    return [...this.compiled.values()]
      .map(({ exerciseType, file, schema }) => ({ exerciseType, file, schema }))
      .sort((a, b) => (a.exerciseType < b.exerciseType ? -1 : 1));
  }

  /** The first violation of the type's schema, or null when the exercise matches (or the type has no schema). */
  violationOf(exerciseType: string, exercise: unknown): SchemaViolation | null {
    const compiled = this.compiled.get(exerciseType);
    if (!compiled || compiled.validate(exercise)) return null;
    return violationFrom(exerciseType, compiled.validate.errors?.[0]);
  }

  /** Throws ExerciseSchemaViolationError when the exercise does not match its type's schema. */
  assertValid(exerciseType: string, exercise: unknown): void {
    const violation = this.violationOf(exerciseType, exercise);
    if (violation) throw new ExerciseSchemaViolationError(violation);
  }

  private add(ajv: Ajv2020, info: ExerciseSchemaInfo, source: string): void {
    const { schema } = info;
    if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
      throw new InvalidExerciseSchemaError(source, 'a JSON Schema must be an object or a boolean');
    }
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw new InvalidExerciseSchemaError(source, `not a valid JSON Schema (draft 2020-12): ${(error as Error).message}`);
    }
    this.compiled.set(info.exerciseType, { ...info, validate });
  }
}

/**
 * Strict about the schema itself (an unknown keyword, usually a typo such as "requried", is an
 * error rather than a rule silently ignored); only the first violation is collected, which is all
 * a 400 reports and the cheapest to compute.
 */
function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: false, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, logger: false });
  addFormats(ajv);
  return ajv;
}

const escapePointer = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** For "a property is missing / not allowed" the pointer names that property, not its parent. */
function violationFrom(exerciseType: string, error: ErrorObject | undefined): SchemaViolation {
  if (!error) return { exerciseType, pointer: '', rule: 'schema', schemaPath: '#', problem: 'does not match' };
  const params = error.params as Record<string, unknown>;
  const property = params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty;
  const pointer = typeof property === 'string' ? `${error.instancePath}/${escapePointer(property)}` : error.instancePath;
  return { exerciseType, pointer, rule: error.keyword, schemaPath: error.schemaPath, problem: error.message ?? 'does not match' };
}
