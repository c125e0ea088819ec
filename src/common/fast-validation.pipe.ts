import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { detachRawJson, rawJsonFieldsOf } from '../cache/dto/keep-raw-json';
import { forbiddenKeyMessage, prototypeNamedKeyMessages } from './prototype-named-keys';

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
 * class-validator cost a cache hit more CPU than everything else it does (`npm run bench --
 * --without fast-parse` runs the service without the shortcut beside it), so a DTO may offer
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
    if (!this.toValidate(metadata)) return super.transform(value, metadata);
    this.stripProtoKeys(value);
    // Raw JSON fields (the exercise) skip class-transformer, whose cost grows with the square of an
    // object's keys; their own rule checks them in one pass.
    const detached = detachRawJson(value, rawJsonFieldsOf(metadata.metatype));
    const input = detached ? detached.value : value;
    const unknownFields = prototypeNamedKeyMessages(input);
    if (unknownFields.length > 0) throw badRequest(unknownFields);
    const rawProblems = detached?.problems ?? [];
    let dto: unknown;
    try {
      dto = await super.transform(input, metadata);
    } catch (error) {
      if (rawProblems.length > 0 && error instanceof BadRequestException) throw badRequest([...messagesOf(error), ...rawProblems]);
      throw error;
    }
    if (rawProblems.length > 0) throw badRequest(rawProblems);
    return detached && dto !== null && typeof dto === 'object' ? detached.attach(dto) : dto;
  }

  /**
   * Nest deletes "__proto__", "prototype" and "constructor" keys anywhere in the input before
   * class-transformer sees it (prototype-pollution defence), which would silently change a stored
   * exercise. We refuse such input instead, naming the key: safe, and nothing is changed.
   */
  protected override stripProtoKeys(value: unknown): void {
    const message = forbiddenKeyMessage(value);
    if (message) throw badRequest([message]);
  }
}

function badRequest(messages: string[]): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [...new Set(messages)] });
}

function messagesOf(error: BadRequestException): string[] {
  const message = (error.getResponse() as { message?: unknown }).message;
  return Array.isArray(message) ? message.map(String) : [String(message ?? error.message)];
}
