import { Histogram, Registry } from 'prom-client';
import { REQUEST_DURATION_BUCKETS, RequestDurationHistogram } from './request-duration-histogram';

describe(RequestDurationHistogram.name, () => {
  it('exposes exactly what a prom-client Histogram exposes for the same observations', async () => {
    const ours = new Registry();
    const reference = new Registry();
    const fast = new RequestDurationHistogram('http_seconds', 'request duration', ours);
    const slow = new Histogram({ name: 'http_seconds', help: 'request duration', labelNames: ['method', 'route', 'status'], buckets: REQUEST_DURATION_BUCKETS, registers: [reference] });
    const observations: [string, string, number, number][] = [
      ['GET', '/exercise-cache', 200, 0.0004],
      ['GET', '/exercise-cache', 200, 0.0005], // on a bound: counts in that bucket
      ['GET', '/exercise-cache', 404, 0.003],
      ['GET', '/exercise-cache/:key', 200, 0.07],
      ['POST', '/exercise-cache', 201, 12], // above every bound: +Inf only
      ['GET', 'unmatched', 404, 0],
      ['GET', 'a "quoted" \\ route', 200, 0.2],
    ];
    for (const [method, route, status, seconds] of observations) {
      fast.observe(method, route, status, seconds);
      slow.observe({ method, route, status: String(status) }, seconds);
    }
    expect(await ours.metrics()).toBe(await reference.metrics());
  });

  it('forgets every series on reset', async () => {
    const registry = new Registry();
    const fast = new RequestDurationHistogram('http_seconds', 'request duration', registry);
    fast.observe('GET', '/x', 200, 0.1);
    registry.resetMetrics();
    expect(await registry.metrics()).toBe('# HELP http_seconds request duration\n# TYPE http_seconds histogram\n');
  });
});
