import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';
import { ApiKey, matchDigest, parseApiKeys, sha256 } from './api-keys';

/** The credential a request carried: none, a wrong one, or a configured key. */
export type Credential = 'missing' | 'invalid' | ApiKey;

const CREDENTIAL = Symbol('exercise-cache.credential');
type WithCredential = FastifyRequest & { [CREDENTIAL]?: Credential };

const BEARER = 'bearer ';

/**
 * Checks API keys and the metrics token. Digests of the configured secrets are computed once at
 * boot; a request costs one SHA-256 of what it presents and one constant-time comparison per
 * configured key, and the result is kept on the request so the rate limiter and the auth guard
 * share it. Keys never leave this class: not in messages, not in logs.
 */
@Injectable()
export class ApiKeyVerifier {
  private readonly keys: ApiKey[];
  private readonly metricsToken?: { digest: Buffer };

  constructor(config: AppConfig) {
    this.keys = parseApiKeys(config.API_KEYS);
    if (config.METRICS_TOKEN) this.metricsToken = { digest: sha256(config.METRICS_TOKEN) };
  }

  /** False when API_KEYS is unset: the API is open (refused at boot in production). */
  get keysRequired(): boolean {
    return this.keys.length > 0;
  }

  get metricsTokenRequired(): boolean {
    return this.metricsToken !== undefined;
  }

  /** X-API-Key, else Authorization: Bearer; checked once per request. */
  credentialOf(request: FastifyRequest): Credential {
    const memo = request as WithCredential;
    const known = memo[CREDENTIAL];
    if (known !== undefined) return known;
    const presented = presentedApiKey(request);
    const credential = presented === undefined ? 'missing' : (matchDigest(sha256(presented), this.keys) ?? 'invalid');
    memo[CREDENTIAL] = credential;
    return credential;
  }

  /** Only Authorization: Bearer <METRICS_TOKEN>, the form Prometheus sends (bearer_token). */
  hasMetricsToken(request: FastifyRequest): boolean {
    if (!this.metricsToken) return true;
    const presented = bearerToken(request.headers.authorization);
    return presented !== undefined && matchDigest(sha256(presented), [this.metricsToken]) !== undefined;
  }
}

function presentedApiKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header.trim();
  return bearerToken(request.headers.authorization);
}

function bearerToken(header: string | undefined): string | undefined {
  if (typeof header !== 'string' || header.length <= BEARER.length) return undefined;
  if (header.slice(0, BEARER.length).toLowerCase() !== BEARER) return undefined;
  const token = header.slice(BEARER.length).trim();
  return token.length > 0 ? token : undefined;
}
