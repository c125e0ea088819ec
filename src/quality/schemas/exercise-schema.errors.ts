import { InvalidCacheRequestError } from '../../cache/context-rules';

/** Where an exercise broke its type's schema: the JSON pointer into the exercise and the rule. */
export interface SchemaViolation {
  exerciseType: string;
  /** JSON pointer (RFC 6901) into the exercise; "" is the exercise itself. */
  pointer: string;
  /** The JSON Schema keyword that failed (type, required, enum, ...). */
  rule: string;
  /** Where that keyword sits in the schema, as a JSON pointer fragment ("#/properties/answer/type"). */
  schemaPath: string;
  /** Ajv's wording of the problem ("must be string"). */
  problem: string;
}

/**
 * An exercise that does not match the JSON Schema of its type. A caller's mistake like any other
 * invalid request (a 400 over HTTP), so it is a kind of InvalidCacheRequestError; nothing is stored.
 */
export class ExerciseSchemaViolationError extends InvalidCacheRequestError {
  readonly violation: SchemaViolation;

  constructor(violation: SchemaViolation) {
    super(describeViolation(violation));
    this.name = 'ExerciseSchemaViolationError';
    this.message = describeViolation(violation);
    this.violation = violation;
    const response = this.getResponse() as Record<string, unknown>;
    Object.assign(response, { exerciseType: violation.exerciseType, pointer: violation.pointer, rule: violation.rule, schemaPath: violation.schemaPath });
  }
}

export function describeViolation({ exerciseType, pointer, rule, schemaPath, problem }: SchemaViolation): string {
  return `exercise does not match the schema of type "${exerciseType}": at ${pointer === '' ? '(root)' : pointer} ${problem} (rule "${rule}", ${schemaPath})`;
}

/** A schema that cannot be used (not JSON, not a valid draft 2020-12 JSON Schema, badly named file). */
export class InvalidExerciseSchemaError extends Error {
  constructor(
    readonly source: string,
    problem: string,
  ) {
    super(`invalid exercise schema ${source}: ${problem.replace(/\s*\n\s*/g, ' ')}`);
    this.name = 'InvalidExerciseSchemaError';
  }
}
