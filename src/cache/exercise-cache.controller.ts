import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { cacheKeyFor } from './cache-key';
import type { CachedEntry } from './cache-entry';
import { CacheMissResponse, CachedExerciseResponse, InvalidatedResponse, NearMissResponse, StoredExerciseResponse } from './dto/exercise-responses.dto';
import { KeyParamDto, LookupQueryDto, NearQueryDto } from './dto/lookup-query.dto';
import { StoreExerciseDto } from './dto/store-exercise.dto';
import { ExerciseCacheService } from './exercise-cache.service';

type Reply = FastifyReply;

@ApiTags('exercise-cache')
@ApiBadRequestResponse({ description: 'Invalid input; the message names the field' })
@Controller('exercise-cache')
export class ExerciseCacheController {
  constructor(private readonly cache: ExerciseCacheService) {}

  @Get()
  @ApiOkResponse({ type: CachedExerciseResponse, description: 'Hit (X-Cache: HIT)' })
  @ApiNotFoundResponse({ type: CacheMissResponse, description: 'Miss (X-Cache: MISS)' })
  async lookup(@Query() query: LookupQueryDto, @Res({ passthrough: true }) reply: Reply): Promise<CachedExerciseResponse> {
    const context = { type: query.type, difficulty: query.difficulty, topics: query.topics };
    const entry = await this.cache.lookup(context, { variants: query.variants, exclude: query.exclude });
    return answer(reply, entry, () => cacheKeyFor(context), 'no cached exercise for this context');
  }

  @Get('near')
  @ApiOkResponse({ type: [NearMissResponse], description: 'Live entries of the same type and difficulty with overlapping topics' })
  async near(@Query() query: NearQueryDto): Promise<NearMissResponse[]> {
    const context = { type: query.type, difficulty: query.difficulty, topics: query.topics };
    const entries = await this.cache.findByTopics(context, { minOverlap: query.minOverlap, limit: query.limit });
    return entries.map(NearMissResponse.from);
  }

  @Get(':key')
  @ApiOkResponse({ type: CachedExerciseResponse, description: 'Hit (X-Cache: HIT)' })
  @ApiNotFoundResponse({ type: CacheMissResponse, description: 'Miss (X-Cache: MISS)' })
  async byKey(@Param() { key }: KeyParamDto, @Res({ passthrough: true }) reply: Reply): Promise<CachedExerciseResponse> {
    return answer(reply, await this.cache.getByKey(key), () => key, 'no cached exercise with this key');
  }

  @Post()
  @ApiCreatedResponse({ type: StoredExerciseResponse })
  async store(@Body() body: StoreExerciseDto): Promise<StoredExerciseResponse> {
    const { key, expiresAt } = await this.cache.set(body.context, body.exercise, {
      ttlSeconds: body.ttlSeconds,
      generationCost: body.generationCost,
      generationTimeMs: body.generationTimeMs,
      variants: body.variants,
    });
    return { key, expiresAt: expiresAt.toISOString() };
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiNotFoundResponse({ description: 'No entry with this key' })
  async remove(@Param() { key }: KeyParamDto): Promise<void> {
    if ((await this.cache.invalidate(key)) === 0) {
      throw new NotFoundException({ statusCode: 404, message: 'no cached exercise with this key', key });
    }
  }

  @Delete()
  @ApiOkResponse({ type: InvalidatedResponse, description: 'Every variant of the context removed' })
  async removeContext(@Query() query: LookupQueryDto): Promise<InvalidatedResponse> {
    return { removed: await this.cache.invalidate({ type: query.type, difficulty: query.difficulty, topics: query.topics }) };
  }
}

/** `keyOfMiss` is only computed on a miss: hashing the context again on every hit costs. */
function answer(reply: Reply, entry: CachedEntry | null, keyOfMiss: () => string, missMessage: string): CachedExerciseResponse {
  if (!entry) {
    void reply.header('X-Cache', 'MISS');
    throw new NotFoundException({ statusCode: 404, message: missMessage, key: keyOfMiss() });
  }
  void reply.header('X-Cache', 'HIT');
  return CachedExerciseResponse.from(entry);
}
