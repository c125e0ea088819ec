import type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';

/**
 * A health result with each check reduced to up or down: what an open probe may show. The
 * failing check's message can carry the database's host, port, role or database name.
 */
export function statusOnly(result: HealthCheckResult): HealthCheckResult {
  return {
    status: result.status,
    info: reduce(result.info),
    error: reduce(result.error),
    details: reduce(result.details) ?? {},
  };
}

function reduce(checks: Partial<HealthIndicatorResult> | undefined): HealthIndicatorResult | undefined {
  if (!checks) return checks;
  const reduced: HealthIndicatorResult = {};
  for (const [name, check] of Object.entries(checks)) if (check) reduced[name] = { status: check.status };
  return reduced;
}
