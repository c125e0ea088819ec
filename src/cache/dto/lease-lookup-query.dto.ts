import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { MAX_LEASE_SECONDS, MAX_LEASE_WAIT_MS, MIN_LEASE_SECONDS } from '../lease-coordinator';
import { IsIntegerIn } from './context-rule.decorators';
import { LookupQueryDto } from './lookup-query.dto';
import { fastParseLookupQuery, plainIntegerIn } from './lookup-query.fast-parse';
import { ToInt } from './query-transforms';

/** GET /exercise-cache: a lookup, optionally with a lease on a miss (lease=, wait=). */
export class LeaseLookupQueryDto extends LookupQueryDto {
  @ApiPropertyOptional({
    description:
      `On a miss, ask for a lease of this many seconds (${MIN_LEASE_SECONDS}..${MAX_LEASE_SECONDS}): exactly one caller per context ` +
      '(and variant slot) across every replica gets 404 with X-Cache-Lease: <token> and should generate, then POST with that header. ' +
      'A crashed holder loses the lease after these seconds.',
    example: 30,
  })
  @IsOptional()
  @ToInt()
  @IsIntegerIn('lease', MIN_LEASE_SECONDS, MAX_LEASE_SECONDS, 'seconds')
  lease?: number;

  @ApiPropertyOptional({
    description:
      `With lease: while another caller holds the lease, wait up to this many milliseconds (0..${MAX_LEASE_WAIT_MS}) for its exercise ` +
      '(200, X-Cache: COALESCED). When the wait runs out: 404 with Retry-After and no token.',
    example: 10000,
  })
  @IsOptional()
  @ToInt()
  @IsIntegerIn('wait', 0, MAX_LEASE_WAIT_MS, 'milliseconds')
  wait?: number;

  /** The lookup's fast path, plus plainly valid lease and wait values (see FastValidationPipe). */
  static override fastParse(value: unknown): LeaseLookupQueryDto | undefined {
    if (value === null || typeof value !== 'object') return undefined;
    // The common lookup has neither: parse it as it is, without copying the query.
    if (!('lease' in value) && !('wait' in value)) return fastParseLookupQuery(value) as LeaseLookupQueryDto | undefined;
    const { lease, wait, ...rest } = value as Record<string, unknown>;
    const leaseSeconds = lease === undefined ? undefined : plainIntegerIn(lease, MIN_LEASE_SECONDS, MAX_LEASE_SECONDS);
    const waitMs = wait === undefined ? undefined : plainIntegerIn(wait, 0, MAX_LEASE_WAIT_MS);
    if ((lease !== undefined && leaseSeconds === undefined) || (wait !== undefined && waitMs === undefined)) return undefined;
    const parsed = fastParseLookupQuery(rest) as LeaseLookupQueryDto | undefined;
    if (!parsed) return undefined;
    if (leaseSeconds !== undefined) parsed.lease = leaseSeconds;
    if (waitMs !== undefined) parsed.wait = waitMs;
    return parsed;
  }
}
