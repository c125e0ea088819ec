import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { IsOptional, validateSync } from 'class-validator';
import { MAX_VARIANTS } from '../../cache/context-rules';
import { IsIntegerIn } from '../../cache/dto/context-rule.decorators';
import { detachRawJson, rawJsonFieldsOf } from '../../cache/dto/keep-raw-json';
import { StoreExerciseDto } from '../../cache/dto/store-exercise.dto';
import { prototypeNamedKeyMessages } from '../../common/prototype-named-keys';
import { duplicateKeyMessage, scanJsonText } from '../../security/json-text-scan';
import { validationExceptionFactory } from '../../common/validation-exception.factory';

/**
 * One line of an export/import file (JSON Lines): the body of POST /exercise-cache, with the same
 * validation rules, minus the request-only fields, plus the variant slot the entry occupies.
 */
export class ExerciseLineDto extends PickType(StoreExerciseDto, ['context', 'exercise', 'ttlSeconds', 'generationCost'] as const) {
  @ApiPropertyOptional({ description: `Variant slot of the context (1..${MAX_VARIANTS}); default 1` })
  @IsOptional()
  @IsIntegerIn('variant', 1, MAX_VARIANTS)
  variant?: number;
}

export type ParsedLine = { ok: true; line: ExerciseLineDto } | { ok: false; reason: string };

/** Parses and validates one line; the reason names the field, as the API's 400 messages do. */
export function parseExerciseLine(text: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'a line must be a JSON object like {"context": {...}, "exercise": {...}}' };
  }
  const duplicate = scanJsonText(Buffer.from(text), Number.MAX_SAFE_INTEGER).duplicateKey;
  if (duplicate) return { ok: false, reason: duplicateKeyMessage(duplicate) };
  // The exercise skips class-transformer (cost quadratic in its keys) and is checked in one pass.
  const detached = detachRawJson(value, rawJsonFieldsOf(StoreExerciseDto));
  const input = detached ? detached.value : value;
  const reasons = prototypeNamedKeyMessages(input);
  if (reasons.length > 0) return { ok: false, reason: reasons.join('; ') };
  const line = plainToInstance(ExerciseLineDto, input);
  const errors = validateSync(line, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) reasons.push(...(validationExceptionFactory(errors).getResponse() as { message: string[] }).message);
  reasons.push(...(detached?.problems ?? []));
  if (reasons.length > 0) return { ok: false, reason: reasons.join('; ') };
  return { ok: true, line: detached ? detached.attach(line) : line };
}
