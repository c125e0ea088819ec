import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { LeaseOutcome } from '../cache/lease-coordinator';
import { MetricsRegistry } from './metrics-registry';

/** Lease lookups and stores by outcome; /metrics exposes them as exercise_cache_leases_total. */
@Injectable()
export class LeaseMetrics {
  private readonly leases: Counter<'outcome'>;

  constructor(registry: MetricsRegistry) {
    this.leases = new Counter({
      name: 'exercise_cache_leases_total',
      help: 'Leases: granted (miss, caller generates), waited (lease held by another caller), coalesced (served the holder\'s exercise), timed_out (wait ran out), conflict (store with an expired, reassigned token)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    // Every outcome is exported from the start, so dashboards see zeros rather than gaps.
    for (const outcome of ['granted', 'waited', 'coalesced', 'timed_out', 'conflict'] as const) this.leases.inc({ outcome }, 0);
  }

  count(outcome: LeaseOutcome): void {
    this.leases.inc({ outcome });
  }
}
