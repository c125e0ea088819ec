import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard, ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { ApiKeyVerifier } from '../auth/api-key-verifier';
import { RouteAccessResolver } from '../auth/route-access.resolver';
import { AppConfig } from '../config/app-config';

/**
 * RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW_MS per client, over all rate-limited routes
 * together (not per route). A client is its API key when it sent a valid one, otherwise its IP
 * address: a made-up key cannot buy a fresh budget. Probes, /health and /metrics are exempt;
 * RATE_LIMIT_MAX=0 switches the limit off. Runs before the API-key guard, so guessing keys is
 * rate-limited too. Over the limit: 429 with Retry-After (seconds).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly disabled: boolean;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly verifier: ApiKeyVerifier,
    private readonly routes: RouteAccessResolver,
    config: AppConfig,
  ) {
    super(options, storage, reflector);
    this.disabled = config.RATE_LIMIT_MAX === 0;
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (this.disabled || context.getType() !== 'http') return true;
    const access = this.routes.accessOf(context);
    return access === 'open' || access === 'monitoring';
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const req = request as unknown as FastifyRequest;
    if (this.verifier.keysRequired) {
      const credential = this.verifier.credentialOf(req);
      if (typeof credential === 'object') return `key:${credential.id}`;
    }
    return `ip:${req.ip}`;
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }
}
