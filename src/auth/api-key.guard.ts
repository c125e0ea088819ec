import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyVerifier } from './api-key-verifier';
import { RouteAccessResolver } from './route-access.resolver';

const CHALLENGE = 'Bearer realm="exercise-cache"';

/**
 * Global guard (APP_GUARD): with API_KEYS set, every route except the open ones needs a key, and
 * writes and maintenance need a read-write key; /health and /metrics need METRICS_TOKEN when it is
 * set. See route-access.ts for which route is which.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly verifier: ApiKeyVerifier,
    private readonly routes: RouteAccessResolver,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const access = this.routes.accessOf(context);
    if (access === 'open') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (access === 'monitoring') {
      if (this.verifier.hasMetricsToken(request)) return true;
      throw this.unauthorized(context, 'missing or invalid metrics token: send Authorization: Bearer <METRICS_TOKEN>');
    }
    if (!this.verifier.keysRequired) return true;
    const credential = this.verifier.credentialOf(request);
    if (credential === 'missing') {
      throw this.unauthorized(context, 'missing API key: send Authorization: Bearer <key> or X-API-Key: <key>');
    }
    if (credential === 'invalid') throw this.unauthorized(context, 'invalid API key');
    if (access === 'write' && credential.readOnly) {
      throw new ForbiddenException({
        statusCode: 403,
        error: 'Forbidden',
        message: 'this API key is read-only: writes, deletes and maintenance need a read-write key',
      });
    }
    return true;
  }

  private unauthorized(context: ExecutionContext, message: string): UnauthorizedException {
    void context.switchToHttp().getResponse<FastifyReply>().header('WWW-Authenticate', CHALLENGE);
    return new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message });
  }
}
