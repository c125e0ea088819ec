import { BadRequestException, Body, ConflictException, Controller, Delete, ForbiddenException, GatewayTimeoutException, Get, Headers, HttpCode, NotFoundException, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyVerifier } from '../auth/api-key-verifier';
import { ExerciseContext, cacheKeyFor } from './cache-key';
import { ageSecondsOf, entityTagOf, ifNoneMatchHits, parseRequestCacheControl, secondsLeftOf } from './request-cache-control';
import { CachedEntry, isStale } from './cache-entry';
import { CacheMissResponse, CachedExerciseResponse, InvalidatedResponse, NearMissResponse, StoredExerciseResponse } from './dto/exercise-responses.dto';
import { LeaseLookupQueryDto } from './dto/lease-lookup-query.dto';
import { KeyParamDto, NearQueryDto, RemoveQueryDto, isNamespaceOnly } from './dto/lookup-query.dto';
import { StoreExerciseDto } from './dto/store-exercise.dto';
import { CacheInvalidationService } from './cache-invalidation.service';
import { ExerciseLookupService } from './exercise-lookup.service';
import { ExerciseStoreService } from './exercise-store.service';
import { LEASE_TOKEN_PATTERN, LeaseConflictError, LeaseCoordinator } from './lease-coordinator';

type Reply = FastifyReply;

@ApiTags('exercise-cache')
@ApiBadRequestResponse({ description: 'Invalid input; the message names the field' })
@Controller('exercise-cache')
export class ExerciseCacheController {
  constructor(
    private readonly lookups: ExerciseLookupService,
    private readonly exercises: ExerciseStoreService,
    private readonly invalidation: CacheInvalidationService,
    private readonly leases: LeaseCoordinator,
    private readonly keys: ApiKeyVerifier,
  ) {}

  @Get()
  @ApiOkResponse({
    type: CachedExerciseResponse,
    description:
      'Hit (X-Cache: HIT); an expired entry within its stale-while-revalidate window or allowed by Cache-Control max-stale (X-Cache: STALE, Cache-Control: private, max-age=0[, stale-while-revalidate=N]; ' +
      'with lease, one caller also gets X-Cache-Lease to regenerate it); or with lease and wait: the exercise another caller generated under its lease (X-Cache: COALESCED)',
    headers: { 'X-Cache': { description: 'HIT, STALE or COALESCED (counted as hit, stale and coalesced)', schema: { type: 'string', enum: ['HIT', 'STALE', 'COALESCED'] } } },
  })
  @ApiForbiddenResponse({ description: 'lease with a read-only API key (the lease holder must be able to store)' })
  @ApiNotFoundResponse({
    type: CacheMissResponse,
    description:
      'Miss (X-Cache: MISS). With lease: either this caller got the lease (X-Cache-Lease: <token>; generate, then POST with that header), ' +
      'or another caller holds it and the wait ran out (Retry-After, no token)',
    headers: {
      'X-Cache': { description: 'MISS', schema: { type: 'string', enum: ['MISS'] } },
      'X-Cache-Lease': { description: 'With lease: the token of the lease this caller holds (32 hex characters)', schema: { type: 'string' } },
      'Retry-After': { description: 'With lease, when the wait ran out: seconds until the current lease expires (at least 1)', schema: { type: 'integer' } },
    },
  })
  @ApiHeader({
    name: 'cache-control',
    required: false,
    description:
      'RFC 9111 request directives (without lease): no-cache (skip the stored entry: a miss), max-age=N (only an entry at most N s old), ' +
      'max-stale[=N] (an entry expired at most N s ago, or within its stored grace, answers as stale), only-if-cached (504 on a miss)',
  })
  @ApiHeader({ name: 'if-none-match', required: false, description: "The ETag of a hit: 304 without a body while the entry is unchanged" })
  async lookup(
    @Query() query: LeaseLookupQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: Reply,
  ): Promise<CachedExerciseResponse> {
    const context = contextOf(query);
    const options = { variants: query.variants, exclude: query.exclude, generatorVersion: query.generatorVersion };
    if (query.lease !== undefined) {
      this.assertMayHoldLeases(request);
      return this.leaseLookup(context, options, query.lease, query.wait ?? 0, reply);
    }
    if (query.wait !== undefined) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: ['wait only applies with lease'] });
    const control = parseRequestCacheControl(request.headers['cache-control']);
    if (!control) {
      const entry = await this.lookups.lookup(context, options);
      return hitOrNotFound(reply, entry, () => cacheKeyFor(context), 'no cached exercise for this context', request);
    }
    // RFC 9111 request directives: the stored entry answers only if they allow it; counted once.
    const peeked = this.lookups.prepare(context, options);
    if (control.maxStale !== undefined) peeked.control.maxStale = control.maxStale;
    let entry = control.noCache ? null : await this.lookups.findServable(peeked);
    if (entry && control.maxAge !== undefined && ageSecondsOf(entry.createdAt) > control.maxAge) entry = null;
    const served = this.lookups.recordLookup(peeked, entry);
    if (!served && control.onlyIfCached) {
      void reply.header('X-Cache', 'MISS');
      throw new GatewayTimeoutException({ statusCode: 504, error: 'Gateway Timeout', message: 'only-if-cached: no cached exercise for this context', key: cacheKeyFor(context) });
    }
    return hitOrNotFound(reply, served, () => cacheKeyFor(context), 'no cached exercise for this context', request);
  }

  @Get('near')
  @ApiOkResponse({ type: [NearMissResponse], description: 'Live entries of the same type and difficulty with overlapping topics' })
  async near(@Query() query: NearQueryDto): Promise<NearMissResponse[]> {
    const context = contextOf(query);
    const entries = await this.lookups.findByTopics(context, { minOverlap: query.minOverlap, limit: query.limit });
    return entries.map(NearMissResponse.from);
  }

  @Get(':key')
  @ApiOkResponse({ type: CachedExerciseResponse, description: 'Hit (X-Cache: HIT)' })
  @ApiNotFoundResponse({ type: CacheMissResponse, description: 'Miss (X-Cache: MISS)' })
  async byKey(@Param() { key }: KeyParamDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: Reply): Promise<CachedExerciseResponse> {
    return hitOrNotFound(reply, await this.lookups.getByKey(key), () => key, 'no cached exercise with this key', request);
  }

  @Post()
  @ApiCreatedResponse({ type: StoredExerciseResponse })
  @ApiHeader({
    name: 'x-cache-lease',
    required: false,
    description: 'The token a lease lookup returned: stores into the leased slot and releases the lease (409 if it expired and went to another caller)',
  })
  @ApiConflictResponse({ description: 'X-Cache-Lease: the lease expired and was given to another caller (or is for another context); nothing stored' })
  @ApiHeader({ name: 'cache-control', required: false, description: 'no-store: validate the body and answer 200 with the key, storing nothing (RFC 9111)' })
  async store(
    @Body() body: StoreExerciseDto,
    @Res({ passthrough: true }) reply: Reply,
    @Headers('x-cache-lease') leaseToken?: string,
    @Headers('cache-control') cacheControl?: string,
  ): Promise<StoredExerciseResponse> {
    const options = {
      ttlSeconds: body.ttlSeconds,
      generationCost: body.generationCost,
      generationTimeMs: body.generationTimeMs,
      generatorVersion: body.generatorVersion,
      staleWhileRevalidateSeconds: body.staleWhileRevalidateSeconds,
      variants: body.variants,
    };
    if (cacheControl !== undefined && /(^|,)\s*no-store\s*(,|$)/i.test(cacheControl)) {
      // RFC 9111 no-store: validated like any store, answered 200 (nothing created), nothing kept.
      if (leaseToken !== undefined) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: ['Cache-Control: no-store cannot fill a lease (X-Cache-Lease)'] });
      const { key, expiresAt } = this.exercises.validateStore(body.context, body.exercise, options);
      void reply.status(200).header('Cache-Control', 'no-store');
      return { key, expiresAt: expiresAt.toISOString() };
    }
    if (leaseToken === undefined) {
      const { key, expiresAt } = await this.exercises.set(body.context, body.exercise, options);
      return { key, expiresAt: expiresAt.toISOString() };
    }
    if (!LEASE_TOKEN_PATTERN.test(leaseToken)) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: ['X-Cache-Lease must be a lease token: 32 lowercase hex characters'] });
    }
    try {
      const { key, expiresAt } = await this.leases.store(leaseToken, body.context, body.exercise, options);
      return { key, expiresAt: expiresAt.toISOString() };
    } catch (error) {
      if (error instanceof LeaseConflictError) throw new ConflictException({ statusCode: 409, error: 'Conflict', message: error.message });
      throw error;
    }
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiNotFoundResponse({ description: 'No entry with this key' })
  async remove(@Param() { key }: KeyParamDto): Promise<void> {
    if ((await this.invalidation.invalidate(key)) === 0) {
      throw new NotFoundException({ statusCode: 404, message: 'no cached exercise with this key', key });
    }
  }

  @Delete()
  @ApiOkResponse({ type: InvalidatedResponse, description: 'Every variant of the context removed; with namespace alone, every entry of that namespace' })
  async removeContext(@Query() query: RemoveQueryDto): Promise<InvalidatedResponse> {
    if (isNamespaceOnly(query)) return { removed: await this.invalidation.invalidateNamespace(query.namespace!) };
    return { removed: await this.invalidation.invalidate(contextOf({ type: query.type!, difficulty: query.difficulty!, topics: query.topics ?? [], namespace: query.namespace })) };
  }


  /** A lease obliges its holder to store; a read-only key cannot, and would only block others until it expired. */
  private assertMayHoldLeases(request: FastifyRequest): void {
    if (!this.keys.keysRequired) return;
    const credential = this.keys.credentialOf(request);
    if (typeof credential === 'object' && credential.readOnly) {
      throw new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: 'lease needs a read-write API key: the lease holder must store the exercise' });
    }
  }

  private async leaseLookup(
    context: ExerciseContext,
    options: { variants?: number; exclude?: string[] },
    seconds: number,
    waitMs: number,
    reply: Reply,
  ): Promise<CachedExerciseResponse> {
    const result = await this.leases.lookup(context, options, { seconds, waitMs });
    switch (result.outcome) {
      case 'hit':
        return hitOrNotFound(reply, result.entry, () => '', '');
      case 'coalesced':
        void reply.header('X-Cache', 'COALESCED');
        return CachedExerciseResponse.from(result.entry);
      case 'stale':
        // One caller gets the slot's lease with the stale answer: it regenerates and stores with the token.
        if (result.token) void reply.header('X-Cache-Lease', result.token);
        return hitOrNotFound(reply, result.entry, () => '', '');
      case 'granted':
        void reply.header('X-Cache', 'MISS').header('X-Cache-Lease', result.token);
        throw new NotFoundException({ statusCode: 404, message: 'no cached exercise for this context: you hold its lease, generate and store it', key: result.key });
      case 'timed_out':
        void reply.header('X-Cache', 'MISS').header('Retry-After', String(result.retryAfterSeconds));
        throw new NotFoundException({
          statusCode: 404,
          message: 'no cached exercise for this context yet: another caller holds its lease and is generating it',
          key: result.key,
        });
    }
  }
}

/** The context a query names; `namespace` only when given, so a namespace-less context keeps its key. */
function contextOf(query: { type: string; difficulty: number; topics: string[]; namespace?: string }): ExerciseContext {
  const context: ExerciseContext = { type: query.type, difficulty: query.difficulty, topics: query.topics };
  if (query.namespace !== undefined) context.namespace = query.namespace;
  return context;
}

/**
 * A fresh entry: how long it stays fresh. A stale one (RFC 9111 4.2.4, RFC 5861): max-age=0, and
 * the seconds left in its stale-while-revalidate window (none beyond it: a max-stale answer).
 */
function responseCacheControl(entry: CachedEntry, now: number): string {
  if (!isStale(entry, now)) return `private, max-age=${secondsLeftOf(entry.expiresAt, now)}`;
  const revalidateLeft = Math.floor((entry.expiresAt.getTime() + entry.staleWhileRevalidateSeconds * 1000 - now) / 1000);
  return revalidateLeft > 0 ? `private, max-age=0, stale-while-revalidate=${revalidateLeft}` : 'private, max-age=0';
}

/**
 * The answer to a lookup: the entry as a hit (X-Cache: HIT), or 404 naming the key it was looked
 * up under. `keyOfMiss` is only computed on a miss: hashing the context again on every hit costs. A hit
 * carries its validator (ETag), Age and how long it stays fresh; If-None-Match naming the
 * validator gets 304 without a body.
 */
function hitOrNotFound(reply: Reply, entry: CachedEntry | null, keyOfMiss: () => string, missMessage: string, request?: FastifyRequest): CachedExerciseResponse {
  if (!entry) {
    void reply.header('X-Cache', 'MISS');
    throw new NotFoundException({ statusCode: 404, message: missMessage, key: keyOfMiss() });
  }
  const now = Date.now();
  const tag = entityTagOf(entry.key, entry.createdAt);
  void reply
    .header('X-Cache', isStale(entry, now) ? 'STALE' : 'HIT')
    .header('ETag', tag)
    .header('Age', String(ageSecondsOf(entry.createdAt, now)))
    .header('Cache-Control', responseCacheControl(entry, now));
  if (request && ifNoneMatchHits(request.headers['if-none-match'], tag)) {
    void reply.status(304);
    return undefined as unknown as CachedExerciseResponse;
  }
  return CachedExerciseResponse.from(entry);
}
