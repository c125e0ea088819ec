import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsNumber, IsObject, IsOptional, IsString, Matches, Max, Min, Validate, ValidateNested } from 'class-validator';
import { GENERATOR_VERSION_MESSAGE, GENERATOR_VERSION_PATTERN, MAX_EXERCISE_DEPTH, MAX_EXERCISE_VALUES, MAX_TTL_SECONDS, MAX_VARIANTS, exerciseProblem } from '../context-rules';
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
  @IsInt({ message: `ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}` })
  @Min(1, { message: `ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}` })
  @Max(MAX_TTL_SECONDS, { message: `ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}` })
  ttlSeconds?: number;

  @ApiPropertyOptional({ description: 'What generating the exercise cost, in dollars (>= 0); default CACHE_DEFAULT_GENERATION_COST (0.003)' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'generationCost must be a number from 0 to 9999' })
  @Min(0, { message: 'generationCost must be a number from 0 to 9999' })
  @Max(9999, { message: 'generationCost must be a number from 0 to 9999' })
  generationCost?: number;

  @ApiPropertyOptional({ description: 'How long generating the exercise took, in milliseconds' })
  @IsOptional()
  @IsInt({ message: 'generationTimeMs must be a non-negative integer' })
  @Min(0, { message: 'generationTimeMs must be a non-negative integer' })
  @Max(2_147_483_647, { message: 'generationTimeMs must be at most 2147483647' })
  generationTimeMs?: number;

  @ApiPropertyOptional({ description: `Bucket size (1..${MAX_VARIANTS}): store as a new variant while fewer exist, else replace the least used` })
  @IsOptional()
  @IsInt({ message: `variants must be an integer from 1 to ${MAX_VARIANTS}` })
  @Min(1, { message: `variants must be an integer from 1 to ${MAX_VARIANTS}` })
  @Max(MAX_VARIANTS, { message: `variants must be an integer from 1 to ${MAX_VARIANTS}` })
  variants?: number;

  @ApiPropertyOptional({ description: 'Generator (prompt, model) version this exercise was made with, 1..100 printable ASCII characters; lookups naming another version treat it as not fresh', example: 'prompt-v7/gpt-5-mini' })
  @IsOptional()
  @IsString({ message: GENERATOR_VERSION_MESSAGE })
  @Matches(GENERATOR_VERSION_PATTERN, { message: GENERATOR_VERSION_MESSAGE })
  generatorVersion?: string;
}
