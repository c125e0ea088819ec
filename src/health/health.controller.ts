import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { CacheHealthIndicators } from './cache-health.indicators';

/** 200 with every check's details when healthy; 503 with the failing check under `error` otherwise. */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly checks: CacheHealthIndicators,
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

  /** Readiness: the database answers, so requests can be served. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.checks.database()]);
  }
}
