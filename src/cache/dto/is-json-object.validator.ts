import { ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { MAX_EXERCISE_DEPTH, UNSTORABLE_EXERCISE_MESSAGE, depthOf, isStorableJson } from '../context-rules';

const isShapedRight = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && depthOf(value) <= MAX_EXERCISE_DEPTH;

/** A JSON object (not an array, string or null) nested at most MAX_EXERCISE_DEPTH levels, storable as jsonb. */
@ValidatorConstraint({ name: 'isJsonObject' })
export class IsJsonObject implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return isShapedRight(value) && isStorableJson(value);
  }

  defaultMessage(args?: ValidationArguments): string {
    if (args && isShapedRight(args.value)) return UNSTORABLE_EXERCISE_MESSAGE;
    return `exercise must be a JSON object nested at most ${MAX_EXERCISE_DEPTH} levels deep`;
  }
}
