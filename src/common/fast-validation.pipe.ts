import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';

/** A DTO class that can recognise its common, valid input without class-validator. */
export interface FastParsable<T> {
  /**
   * Returns the DTO for input that is certainly valid, or undefined to defer to class-validator.
   * It may defer on any valid input, but must never accept input class-validator would reject.
   */
  fastParse(value: unknown): T | undefined;
}

function isFastParsable(metatype: unknown): metatype is FastParsable<unknown> {
  return typeof (metatype as Partial<FastParsable<unknown>> | undefined)?.fastParse === 'function';
}

/**
 * The global ValidationPipe, with a shortcut for DTOs on the hot path: class-transformer and
 * class-validator cost more than everything else a cache hit does (measured), so a DTO may offer
 * `fastParse` for input that is plainly valid. Anything it does not accept goes through the full
 * class-validator rules, which also produce every error message: the rules and messages stay in
 * one place, the decorators.
 */
export class FastValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (isFastParsable(metadata.metatype)) {
      const parsed = metadata.metatype.fastParse(value);
      if (parsed !== undefined) return parsed;
    }
    return super.transform(value, metadata);
  }
}
