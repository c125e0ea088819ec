import { Controller, Get, Req, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import type { FastifyRequest } from 'fastify';
import { ApiKeyVerifier } from '../auth/api-key-verifier';
import { CacheHealthIndicators } from './cache-health.indicators';
import { statusOnly } from './status-only';

/** 200 with every check's details when healthy; 503 with the failing check under `error` otherwise. */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly checks: CacheHealthIndicators,
    private readonly verifier: ApiKeyVerifier,
  ) {}

  /** Database reachable, no pending migrations, size within bounds, no failed maintenance job. */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.checks.database(),
      () => this.checks.migrations(),
      () => this.checks.cacheSize(),
      () => this.checks.maintenanceJobs(),
    ]);
  }

  /** Liveness: the process answers; never touches the database, so an outage does not get it restarted. */
  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.checks.process()]);
  }

  /**
   * Readiness: the database answers and takes writes, so requests can be served. Open to probes,
   * so it says only up or down; the failing check's message only with the configured METRICS_TOKEN.
   */
  @Get('ready')
  @HealthCheck()
  async ready(@Req() request: FastifyRequest): Promise<HealthCheckResult> {
    const detailed = this.verifier.metricsTokenRequired && this.verifier.hasMetricsToken(request);
    try {
      const result = await this.health.check([() => this.checks.database()]);
      return detailed ? result : statusOnly(result);
    } catch (error) {
      if (detailed || !(error instanceof ServiceUnavailableException)) throw error;
      throw new ServiceUnavailableException(statusOnly(error.getResponse() as HealthCheckResult));
    }
  }
}
