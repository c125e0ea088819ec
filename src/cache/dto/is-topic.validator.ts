import { ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { MAX_TOPIC_LENGTH, isValidTopic } from '../context-rules';

@ValidatorConstraint({ name: 'isTopic' })
export class IsTopic implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return isValidTopic(value);
  }

  defaultMessage(): string {
    return `each topic must be a string of 1..${MAX_TOPIC_LENGTH} characters without control characters`;
  }
}
