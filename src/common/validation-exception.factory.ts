import { BadRequestException, ValidationError } from '@nestjs/common';

/** One readable message per failing field, with the full path of nested fields ("context.difficulty ..."). */
export function validationExceptionFactory(errors: ValidationError[]): BadRequestException {
  const messages: string[] = [];
  const walk = (error: ValidationError, prefix: string) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      messages.push(message.startsWith(error.property) ? `${field}${message.slice(error.property.length)}` : `${field}: ${message}`);
    }
    for (const child of error.children ?? []) walk(child, field);
  };
  errors.forEach((e) => walk(e, ''));
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [...new Set(messages)] });
}
