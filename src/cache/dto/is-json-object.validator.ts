import { ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { MAX_EXERCISE_DEPTH, depthOf } from '../context-rules';

/** A JSON object (not an array, string or null) nested at most MAX_EXERCISE_DEPTH levels. */
@ValidatorConstraint({ name: 'isJsonObject' })
export class IsJsonObject implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return value !== null && typeof value === 'object' && !Array.isArray(value) && depthOf(value) <= MAX_EXERCISE_DEPTH;
  }

  defaultMessage(): string {
    return `exercise must be a JSON object nested at most ${MAX_EXERCISE_DEPTH} levels deep`;
  }
}
