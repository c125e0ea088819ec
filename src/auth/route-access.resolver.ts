import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC } from './public.decorator';
import { RouteAccess, routeAccess } from './route-access';

/**
 * The access class of the route a request matched, computed once per route (method + route
 * pattern, e.g. "GET /exercise-cache/:key") and then read from a map: the guards on the hot path
 * do no string matching per request.
 */
@Injectable()
export class RouteAccessResolver {
  private readonly byRoute = new Map<string, RouteAccess>();

  constructor(private readonly reflector: Reflector) {}

  accessOf(context: ExecutionContext): RouteAccess {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const path = request.routeOptions?.url ?? request.url.split('?')[0];
    const id = `${request.method} ${path}`;
    let access = this.byRoute.get(id);
    if (access === undefined) {
      const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
      access = isPublic ? 'open' : routeAccess(request.method, path);
      this.byRoute.set(id, access);
    }
    return access;
  }
}
