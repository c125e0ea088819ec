import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per application instance (not prom-client's global one), so two
 * instances in one process, as in the tests, never clash over metric names.
 */
export class MetricsRegistry extends Registry {
  constructor() {
    super();
    collectDefaultMetrics({ register: this });
  }
}
