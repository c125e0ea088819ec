import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Matches, Max, Min, Validate, ValidateIf } from 'class-validator';
import { CACHE_KEY_PATTERN } from '../cache-key';
import { GENERATOR_VERSION_MESSAGE, GENERATOR_VERSION_PATTERN, MAX_DIFFICULTY, MAX_EXCLUDED_KEYS, MAX_TOPICS, MAX_VARIANTS, MIN_DIFFICULTY, NAMESPACE_MESSAGE, NAMESPACE_PATTERN, TYPE_PATTERN } from '../context-rules';
import { IsTopic } from './is-topic.validator';
import { fastParseLookupQuery } from './lookup-query.fast-parse';
import { ToInt, ToList } from './query-transforms';

/** The type and difficulty of a context, as query parameters (shared by the lookup routes). */
export class ContextQueryBase {
  @ApiProperty({ description: 'Exercise type: 1..50 characters of a-z, 0-9, "_" and "-"', example: 'contextual_fill' })
  @IsString({ message: 'type is required' })
  @Matches(TYPE_PATTERN, { message: 'type must be 1..50 characters of a-z, 0-9, "_" and "-"' })
  type!: string;

  @ApiProperty({ description: 'Difficulty, an integer from 1 to 5', example: 3 })
  @ToInt()
  @IsInt({ message: 'difficulty must be an integer from 1 to 5' })
  @Min(MIN_DIFFICULTY, { message: 'difficulty must be an integer from 1 to 5' })
  @Max(MAX_DIFFICULTY, { message: 'difficulty must be an integer from 1 to 5' })
  difficulty!: number;

  @ApiPropertyOptional({
    description: 'Namespace (a tenant, locale or course): 1..64 characters of a-z, 0-9, "_", ".", ":" and "-". Entries of different namespaces never meet; none: the namespace-less cache',
    example: 'school-42',
  })
  @IsOptional()
  @IsString({ message: NAMESPACE_MESSAGE })
  @Matches(NAMESPACE_PATTERN, { message: NAMESPACE_MESSAGE })
  namespace?: string;
}

/** GET /exercise-cache?type=&difficulty=&topics=a,b[&variants=&exclude=] */
export class LookupQueryDto extends ContextQueryBase {

  @ApiPropertyOptional({ description: 'Topics, comma-separated or repeated (topics=a&topics=b)', example: 'colors,anatomy', type: String })
  @IsOptional()
  @ToList()
  @IsArray()
  @ArrayMaxSize(MAX_TOPICS, { message: `topics must hold at most ${MAX_TOPICS} topics` })
  @Validate(IsTopic, { each: true })
  topics: string[] = [];

  @ApiPropertyOptional({ description: `Bucket size: up to this many variants are kept for the context (1..${MAX_VARIANTS})`, example: 3 })
  @IsOptional()
  @ToInt()
  @IsInt({ message: `variants must be an integer from 1 to ${MAX_VARIANTS}` })
  @Min(1, { message: `variants must be an integer from 1 to ${MAX_VARIANTS}` })
  @Max(MAX_VARIANTS, { message: `variants must be an integer from 1 to ${MAX_VARIANTS}` })
  variants?: number;

  @ApiPropertyOptional({ description: `Keys already shown to this learner, comma-separated (at most ${MAX_EXCLUDED_KEYS})`, type: String })
  @IsOptional()
  @ToList()
  @IsArray()
  @ArrayMaxSize(MAX_EXCLUDED_KEYS, { message: `exclude must hold at most ${MAX_EXCLUDED_KEYS} keys` })
  @Matches(CACHE_KEY_PATTERN, { each: true, message: 'exclude must hold cache keys of 64 lowercase hex characters' })
  exclude?: string[];

  @ApiPropertyOptional({ description: 'Only entries written with this generator version are fresh: any other (or none) is a miss, and the next store replaces it under the same key', example: 'prompt-v7/gpt-5-mini' })
  @IsOptional()
  @IsString({ message: GENERATOR_VERSION_MESSAGE })
  @Matches(GENERATOR_VERSION_PATTERN, { message: GENERATOR_VERSION_MESSAGE })
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
  @IsArray({ message: 'topics is required' })
  @ArrayMaxSize(MAX_TOPICS, { message: `topics must hold at most ${MAX_TOPICS} topics` })
  @Validate(IsTopic, { each: true })
  topics!: string[];

  @ApiPropertyOptional({ description: 'Minimum number of shared topics (1..20)', default: 1 })
  @IsOptional()
  @ToInt()
  @IsInt({ message: 'minOverlap must be an integer from 1 to 20' })
  @Min(1, { message: 'minOverlap must be an integer from 1 to 20' })
  @Max(20, { message: 'minOverlap must be an integer from 1 to 20' })
  minOverlap = 1;

  @ApiPropertyOptional({ description: 'Maximum number of entries (1..100)', default: 10 })
  @IsOptional()
  @ToInt()
  @IsInt({ message: 'limit must be an integer from 1 to 100' })
  @Min(1, { message: 'limit must be an integer from 1 to 100' })
  @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit = 10;
}

/**
 * DELETE /exercise-cache: either a context (type, difficulty, topics, and its namespace if it has
 * one) whose variants are removed, or `namespace` alone, which removes the whole namespace.
 */
export class RemoveQueryDto {
  @ApiPropertyOptional({ description: 'Exercise type of the context to remove; required unless only namespace is given', example: 'contextual_fill' })
  @ValidateIf((query: RemoveQueryDto) => !isNamespaceOnly(query))
  @IsString({ message: 'type is required' })
  @Matches(TYPE_PATTERN, { message: 'type must be 1..50 characters of a-z, 0-9, "_" and "-"' })
  type?: string;

  @ApiPropertyOptional({ description: 'Difficulty of the context to remove; required unless only namespace is given', example: 3 })
  @ValidateIf((query: RemoveQueryDto) => !isNamespaceOnly(query))
  @ToInt()
  @IsInt({ message: 'difficulty must be an integer from 1 to 5' })
  @Min(MIN_DIFFICULTY, { message: 'difficulty must be an integer from 1 to 5' })
  @Max(MAX_DIFFICULTY, { message: 'difficulty must be an integer from 1 to 5' })
  difficulty?: number;

  @ApiPropertyOptional({ description: 'Topics of the context to remove, comma-separated or repeated', example: 'colors,anatomy', type: String })
  @IsOptional()
  @ToList()
  @IsArray()
  @ArrayMaxSize(MAX_TOPICS, { message: `topics must hold at most ${MAX_TOPICS} topics` })
  @Validate(IsTopic, { each: true })
  topics?: string[];

  @ApiPropertyOptional({ description: 'Namespace of the context; alone (no type, difficulty or topics): remove every entry of this namespace', example: 'school-42' })
  @IsOptional()
  @IsString({ message: NAMESPACE_MESSAGE })
  @Matches(NAMESPACE_PATTERN, { message: NAMESPACE_MESSAGE })
  namespace?: string;
}

export const isNamespaceOnly = (query: RemoveQueryDto) =>
  query.namespace !== undefined && query.type === undefined && query.difficulty === undefined && query.topics === undefined;

/** A cache key in the path. */
export class KeyParamDto {
  @ApiProperty({ description: 'Cache key: 64 lowercase hex characters (SHA-256)' })
  @Matches(CACHE_KEY_PATTERN, { message: 'key must be 64 lowercase hex characters' })
  key!: string;
}

export class LimitQueryDto {
  @ApiPropertyOptional({ description: 'Maximum number of rows (1..1000)', default: 10 })
  @IsOptional()
  @ToInt()
  @IsInt({ message: 'limit must be an integer from 1 to 1000' })
  @Min(1, { message: 'limit must be an integer from 1 to 1000' })
  @Max(1000, { message: 'limit must be an integer from 1 to 1000' })
  limit = 10;
}

export class DaysQueryDto {
  @ApiPropertyOptional({ description: 'Number of UTC days back from today (1..3660)', default: 7 })
  @IsOptional()
  @ToInt()
  @IsInt({ message: 'days must be an integer from 1 to 3660' })
  @Min(1, { message: 'days must be an integer from 1 to 3660' })
  @Max(3660, { message: 'days must be an integer from 1 to 3660' })
  days = 7;
}
