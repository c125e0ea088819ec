import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { MAX_DIFFICULTY, MAX_NAMESPACE_LENGTH, MAX_TOPICS, MAX_TOPIC_LENGTH, MAX_TYPE_LENGTH, MIN_DIFFICULTY } from '../context-rules';
import { IsDifficulty, IsExerciseType, IsNamespace, IsTopicList } from './context-rule.decorators';

/** What an exercise is cached by (request body form). */
export class ExerciseContextDto {
  @ApiProperty({ description: `Exercise type: 1..${MAX_TYPE_LENGTH} characters of a-z, 0-9, "_" and "-"`, example: 'contextual_fill' })
  @IsExerciseType()
  type!: string;

  @ApiProperty({ description: `Difficulty, an integer from ${MIN_DIFFICULTY} to ${MAX_DIFFICULTY}`, example: 3, minimum: MIN_DIFFICULTY, maximum: MAX_DIFFICULTY })
  @IsDifficulty()
  difficulty!: number;

  @ApiProperty({
    description: `Topics (0..${MAX_TOPICS}, each 1..${MAX_TOPIC_LENGTH} characters); order, case and repeats do not change the key`,
    example: ['colors', 'anatomy'],
    type: [String],
  })
  @IsTopicList()
  topics!: string[];

  @ApiPropertyOptional({
    description: `Namespace (a tenant, locale or course): 1..${MAX_NAMESPACE_LENGTH} characters of a-z, 0-9, "_", ".", ":" and "-"; part of the key. Omitted: the namespace-less cache`,
    example: 'school-42',
  })
  @IsOptional()
  @IsNamespace()
  namespace?: string;
}
