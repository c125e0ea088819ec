import type { CacheMaintenanceService } from '../cache/cache-maintenance.service';
import type { LeaseRepository } from '../cache/lease.repository';
import type { ScheduledJob } from '../metrics/maintenance-metrics.service';
import type { MaintenanceRunStore } from './maintenance-runs';

/** What the scheduled jobs work on: one cache's maintenance, leases and run store. */
export interface MaintenanceJobParts {
  cache: CacheMaintenanceService;
  leases: LeaseRepository;
  runs: MaintenanceRunStore;
}

/**
 * The work of a scheduled job, resolving to the rows it affected (what its run records): the
 * service's cron jobs and the package's interval schedule run exactly this.
 */
export async function runScheduledJob(job: ScheduledJob, parts: MaintenanceJobParts, maxEntries?: number): Promise<number> {
  switch (job) {
    case 'cleanup': {
      // Expired entries (the count recorded), and leases abandoned by crashed holders.
      const removed = await parts.cache.cleanupExpired();
      await parts.leases.deleteAbandoned();
      return removed;
    }
    case 'evict':
      return parts.cache.evictLeastRecentlyUsed(maxEntries);
    case 'refresh':
      return parts.cache.refreshMetrics();
  }
}
