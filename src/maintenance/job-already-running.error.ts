import { ConflictException } from '@nestjs/common';
import type { MaintenanceJob } from '../metrics/maintenance-metrics.service';

/** A manual run found the job's advisory lock taken: it is running on another replica (or here). */
export class JobAlreadyRunningError extends ConflictException {
  constructor(readonly job: MaintenanceJob) {
    super({ statusCode: 409, error: 'Conflict', message: `maintenance job "${job}" is already running on another instance` });
  }
}
