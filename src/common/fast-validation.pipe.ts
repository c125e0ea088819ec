import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';

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

  /**
   * Nest deletes "__proto__", "prototype" and "constructor" keys anywhere in the input before
   * class-transformer sees it (prototype-pollution defence), which would silently change a stored
   * exercise. We refuse such input instead, naming the key: safe, and nothing is changed.
   */
  protected override stripProtoKeys(value: unknown): void {
    const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
    const seen = new WeakSet<object>();
    while (stack.length > 0) {
      const { value: current, path } = stack.pop()!;
      if (current === null || typeof current !== 'object' || seen.has(current)) continue;
      seen.add(current);
      for (const key of Object.keys(current)) {
        const at = path ? `${path}.${key}` : key;
        if (FORBIDDEN_KEYS.has(key)) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [`${at}: the key "${key}" is not allowed`] });
        stack.push({ value: (current as Record<string, unknown>)[key], path: at });
      }
    }
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
