import type { ValidationPipeOptions } from '@nestjs/common';
import { validationExceptionFactory } from './validation-exception.factory';

/** Options of the global validation pipe (shared with the tests that check the fast path). */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: validationExceptionFactory,
};
