import { ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { EXERCISE_SHAPE_MESSAGE, exerciseProblem } from '../context-rules';

/**
 * A JSON object (not an array, string or null) within the exercise limits (depth, number of
 * values) and storable as jsonb; see exerciseProblem.
 */
@ValidatorConstraint({ name: 'isJsonObject' })
export class IsJsonObject implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return exerciseProblem(value) === undefined;
  }

  defaultMessage(args?: ValidationArguments): string {
    return (args && exerciseProblem(args.value)) ?? EXERCISE_SHAPE_MESSAGE;
  }
}
