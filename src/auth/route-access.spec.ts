import { isUnder, routeAccess } from './route-access';

describe('routeAccess', () => {
  it.each([
    ['GET', '/health/live', 'open'],
    ['GET', '/health/ready', 'open'],
    ['GET', '/docs', 'open'],
    ['GET', '/docs/json', 'open'],
    ['GET', '/health', 'monitoring'],
    ['GET', '/health/details', 'monitoring'],
    ['GET', '/metrics', 'monitoring'],
    ['GET', '/exercise-cache', 'read'],
    ['HEAD', '/exercise-cache/:key', 'read'],
    ['GET', '/exercise-cache/stats', 'read'],
    ['POST', '/exercise-cache', 'write'],
    ['DELETE', '/exercise-cache/:key', 'write'],
    ['DELETE', '/exercise-cache', 'write'],
    ['POST', '/exercise-cache/maintenance/cleanup', 'write'],
    ['GET', '/exercise-cache/maintenance/runs', 'read'],
    ['GET', '/healthz', 'read'],
    ['GET', '/metricsx', 'read'],
    ['GET', '/dashboard', 'read'],
    ['PUT', '/health/live', 'open'],
  ])('%s %s is %s', (method, path, access) => {
    expect(routeAccess(method, path)).toBe(access);
  });
});

describe('isUnder', () => {
  it('matches whole path segments only', () => {
    expect(isUnder('/health', '/health')).toBe(true);
    expect(isUnder('/health/x', '/health')).toBe(true);
    expect(isUnder('/healthz', '/health')).toBe(false);
  });
});
