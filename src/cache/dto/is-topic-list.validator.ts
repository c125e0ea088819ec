import { ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { topicsProblem } from '../context-rules';

/**
 * A context's topics, checked by the library's own rule (topicsProblem), so the 400 names the
 * first problem exactly as the library's error does. The optional constraint replaces the message
 * for a value that is no list at all ("topics is required").
 */
@ValidatorConstraint({ name: 'isTopicList' })
export class IsTopicListRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return topicsProblem(value, 'topics') === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    const [notAListMessage] = (args.constraints ?? []) as (string | undefined)[];
    if (!Array.isArray(args.value) && notAListMessage) return notAListMessage;
    return topicsProblem(args.value, args.property) ?? '';
  }
}
