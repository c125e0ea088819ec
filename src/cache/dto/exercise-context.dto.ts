import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Matches, Max, Min, Validate } from 'class-validator';
import { MAX_DIFFICULTY, MAX_TOPICS, MAX_TOPIC_LENGTH, MIN_DIFFICULTY, NAMESPACE_MESSAGE, NAMESPACE_PATTERN, TYPE_PATTERN } from '../context-rules';
import { IsTopic } from './is-topic.validator';

/** What an exercise is cached by (request body form). */
export class ExerciseContextDto {
  @ApiProperty({ description: 'Exercise type: 1..50 characters of a-z, 0-9, "_" and "-"', example: 'contextual_fill' })
  @IsString()
  @Matches(TYPE_PATTERN, { message: 'type must be 1..50 characters of a-z, 0-9, "_" and "-"' })
  type!: string;

  @ApiProperty({ description: 'Difficulty, an integer from 1 to 5', example: 3, minimum: 1, maximum: 5 })
  @IsInt({ message: 'difficulty must be an integer from 1 to 5' })
  @Min(MIN_DIFFICULTY, { message: 'difficulty must be an integer from 1 to 5' })
  @Max(MAX_DIFFICULTY, { message: 'difficulty must be an integer from 1 to 5' })
  difficulty!: number;

  @ApiProperty({
    description: `Topics (0..${MAX_TOPICS}, each 1..${MAX_TOPIC_LENGTH} characters); order, case and repeats do not change the key`,
    example: ['colors', 'anatomy'],
    type: [String],
  })
  @IsArray({ message: 'topics must be an array of strings' })
  @ArrayMaxSize(MAX_TOPICS, { message: `topics must hold at most ${MAX_TOPICS} topics` })
  @Validate(IsTopic, { each: true })
  topics!: string[];

  @ApiPropertyOptional({
    description: 'Namespace (a tenant, locale or course): 1..64 characters of a-z, 0-9, "_", ".", ":" and "-"; part of the key. Omitted: the namespace-less cache',
    example: 'school-42',
  })
  @IsOptional()
  @IsString({ message: NAMESPACE_MESSAGE })
  @Matches(NAMESPACE_PATTERN, { message: NAMESPACE_MESSAGE })
  namespace?: string;
}
