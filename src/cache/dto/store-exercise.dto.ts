import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsNumber, IsObject, IsOptional, Max, Min, Validate, ValidateNested } from 'class-validator';
import {
  MAX_EXERCISE_DEPTH,
  MAX_EXERCISE_VALUES,
  MAX_GENERATION_COST,
  MAX_GENERATION_TIME_MS,
  MAX_GENERATOR_VERSION_LENGTH,
  MAX_TTL_SECONDS,
  MAX_VARIANTS,
  RULE_MESSAGES,
  exerciseProblem,
} from '../context-rules';
import { IsGeneratorVersion, IsIntegerIn } from './context-rule.decorators';
import { ExerciseContextDto } from './exercise-context.dto';
import { IsJsonObject } from './is-json-object.validator';
import { KeepRawJson } from './keep-raw-json';

/** POST /exercise-cache */
export class StoreExerciseDto {
  @ApiProperty({ description: 'What the exercise is cached by', type: ExerciseContextDto })
  @IsDefined({ message: 'context is required' })
  @IsObject({ message: 'context must be an object' })
  @ValidateNested()
  @Type(() => ExerciseContextDto)
  context!: ExerciseContextDto;

  @ApiProperty({
    description: `The exercise: any JSON object, nested at most ${MAX_EXERCISE_DEPTH} levels, with at most ${MAX_EXERCISE_VALUES} values (members and array elements at every level) and no duplicate keys`,
    example: { question: 'The sky is ___', answer: 'blue' },
  })
  @IsDefined({ message: 'exercise is required' })
  @KeepRawJson(exerciseProblem)
  @Validate(IsJsonObject)
  exercise!: Record<string, unknown>;

  @ApiPropertyOptional({ description: `Time to live in seconds (1..${MAX_TTL_SECONDS}); default CACHE_DEFAULT_TTL_SECONDS (86400)` })
  @IsOptional()
  @IsIntegerIn('ttlSeconds', 1, MAX_TTL_SECONDS)
  ttlSeconds?: number;

  @ApiPropertyOptional({ description: `What generating the exercise cost, in dollars (0..${MAX_GENERATION_COST}); default CACHE_DEFAULT_GENERATION_COST (0.003)` })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: RULE_MESSAGES.generationCost() })
  @Min(0, { message: RULE_MESSAGES.generationCost() })
  @Max(MAX_GENERATION_COST, { message: RULE_MESSAGES.generationCost() })
  generationCost?: number;

  @ApiPropertyOptional({ description: 'How long generating the exercise took, in milliseconds' })
  @IsOptional()
  @IsIntegerIn('generationTimeMs', 0, MAX_GENERATION_TIME_MS)
  generationTimeMs?: number;

  @ApiPropertyOptional({ description: `Bucket size (1..${MAX_VARIANTS}): store as a new variant while fewer exist, else replace the least used` })
  @IsOptional()
  @IsIntegerIn('variants', 1, MAX_VARIANTS)
  variants?: number;

  @ApiPropertyOptional({
    description: `Stale-while-revalidate window in seconds (0..${MAX_TTL_SECONDS}): past its expiry and within it the entry is served as stale (X-Cache: STALE) while one caller regenerates it; default STALE_WHILE_REVALIDATE_SECONDS (0 = off)`,
  })
  @IsOptional()
  @IsIntegerIn('staleWhileRevalidateSeconds', 0, MAX_TTL_SECONDS)
  staleWhileRevalidateSeconds?: number;

  @ApiPropertyOptional({ description: `Generator (prompt, model) version this exercise was made with, 1..${MAX_GENERATOR_VERSION_LENGTH} printable ASCII characters; lookups naming another version treat it as not fresh`, example: 'prompt-v7/gpt-5-mini' })
  @IsOptional()
  @IsGeneratorVersion()
  generatorVersion?: string;
}
