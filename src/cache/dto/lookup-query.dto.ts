import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches, ValidateIf } from 'class-validator';
import { CACHE_KEY_PATTERN } from '../cache-key';
import {
  MAX_DIFFICULTY,
  MAX_EXCLUDED_KEYS,
  MAX_LIST_LIMIT,
  MAX_METRICS_DAYS,
  MAX_MIN_OVERLAP,
  MAX_NAMESPACE_LENGTH,
  MAX_NEAR_RESULTS,
  MAX_TYPE_LENGTH,
  MAX_VARIANTS,
  MIN_DIFFICULTY,
  RULE_MESSAGES,
} from '../context-rules';
import { IsDifficulty, IsExerciseType, IsGeneratorVersion, IsIntegerIn, IsKeyList, IsNamespace, IsTopicList } from './context-rule.decorators';
import { fastParseLookupQuery } from './lookup-query.fast-parse';
import { ToInt, ToList } from './query-transforms';

/** The type and difficulty of a context, as query parameters (shared by the lookup routes). */
export class ContextQueryBase {
  @ApiProperty({ description: `Exercise type: 1..${MAX_TYPE_LENGTH} characters of a-z, 0-9, "_" and "-"`, example: 'contextual_fill' })
  @IsExerciseType('type is required')
  type!: string;

  @ApiProperty({ description: `Difficulty, an integer from ${MIN_DIFFICULTY} to ${MAX_DIFFICULTY}`, example: 3 })
  @ToInt()
  @IsDifficulty()
  difficulty!: number;

  @ApiPropertyOptional({
    description: `Namespace (a tenant, locale or course): 1..${MAX_NAMESPACE_LENGTH} characters of a-z, 0-9, "_", ".", ":" and "-". Entries of different namespaces never meet; none: the namespace-less cache`,
    example: 'school-42',
  })
  @IsOptional()
  @IsNamespace()
  namespace?: string;
}

/** GET /exercise-cache?type=&difficulty=&topics=a,b[&variants=&exclude=] */
export class LookupQueryDto extends ContextQueryBase {

  @ApiPropertyOptional({ description: 'Topics, comma-separated or repeated (topics=a&topics=b)', example: 'colors,anatomy', type: String })
  @IsOptional()
  @ToList()
  @IsTopicList()
  topics: string[] = [];

  @ApiPropertyOptional({ description: `Bucket size: up to this many variants are kept for the context (1..${MAX_VARIANTS})`, example: 3 })
  @IsOptional()
  @ToInt()
  @IsIntegerIn('variants', 1, MAX_VARIANTS)
  variants?: number;

  @ApiPropertyOptional({ description: `Keys already shown to this learner, comma-separated (at most ${MAX_EXCLUDED_KEYS})`, type: String })
  @IsOptional()
  @ToList()
  @IsKeyList()
  exclude?: string[];

  @ApiPropertyOptional({ description: 'Only entries written with this generator version are fresh: any other (or none) is a miss, and the next store replaces it under the same key', example: 'prompt-v7/gpt-5-mini' })
  @IsOptional()
  @IsGeneratorVersion()
  generatorVersion?: string;

  /** See FastValidationPipe: accepts only input that the decorators above accept too. */
  static fastParse(value: unknown): LookupQueryDto | undefined {
    return fastParseLookupQuery(value);
  }
}

/** GET /exercise-cache/near?type=&difficulty=&topics=&minOverlap=&limit= */
export class NearQueryDto extends ContextQueryBase {
  @ApiProperty({ description: 'Topics to overlap with, comma-separated or repeated', example: 'colors,anatomy', type: String })
  @ToList()
  @IsTopicList('topics is required')
  topics!: string[];

  @ApiPropertyOptional({ description: `Minimum number of shared topics (1..${MAX_MIN_OVERLAP})`, default: 1 })
  @IsOptional()
  @ToInt()
  @IsIntegerIn('minOverlap', 1, MAX_MIN_OVERLAP)
  minOverlap = 1;

  @ApiPropertyOptional({ description: `Maximum number of entries (1..${MAX_NEAR_RESULTS})`, default: 10 })
  @IsOptional()
  @ToInt()
  @IsIntegerIn('limit', 1, MAX_NEAR_RESULTS)
  limit = 10;
}

/**
 * DELETE /exercise-cache: either a context (type, difficulty, topics, and its namespace if it has
 * one) whose variants are removed, or `namespace` alone, which removes the whole namespace.
 */
export class RemoveQueryDto {
  @ApiPropertyOptional({ description: 'Exercise type of the context to remove; required unless only namespace is given', example: 'contextual_fill' })
  @ValidateIf((query: RemoveQueryDto) => !isNamespaceOnly(query))
  @IsExerciseType('type is required')
  type?: string;

  @ApiPropertyOptional({ description: 'Difficulty of the context to remove; required unless only namespace is given', example: 3 })
  @ValidateIf((query: RemoveQueryDto) => !isNamespaceOnly(query))
  @ToInt()
  @IsDifficulty()
  difficulty?: number;

  @ApiPropertyOptional({ description: 'Topics of the context to remove, comma-separated or repeated', example: 'colors,anatomy', type: String })
  @IsOptional()
  @ToList()
  @IsTopicList()
  topics?: string[];

  @ApiPropertyOptional({ description: 'Namespace of the context; alone (no type, difficulty or topics): remove every entry of this namespace', example: 'school-42' })
  @IsOptional()
  @IsNamespace()
  namespace?: string;
}

export const isNamespaceOnly = (query: RemoveQueryDto) =>
  query.namespace !== undefined && query.type === undefined && query.difficulty === undefined && query.topics === undefined;

/** A cache key in the path. */
export class KeyParamDto {
  @ApiProperty({ description: 'Cache key: 64 lowercase hex characters (SHA-256)' })
  @Matches(CACHE_KEY_PATTERN, { message: RULE_MESSAGES.key() })
  key!: string;
}

export class LimitQueryDto {
  @ApiPropertyOptional({ description: `Maximum number of rows (1..${MAX_LIST_LIMIT})`, default: 10 })
  @IsOptional()
  @ToInt()
  @IsIntegerIn('limit', 1, MAX_LIST_LIMIT)
  limit = 10;
}

export class DaysQueryDto {
  @ApiPropertyOptional({ description: `Number of UTC days back from today (1..${MAX_METRICS_DAYS})`, default: 7 })
  @IsOptional()
  @ToInt()
  @IsIntegerIn('days', 1, MAX_METRICS_DAYS)
  days = 7;
}
