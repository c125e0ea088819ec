import { Counter, type Registry } from 'prom-client';
import { LabelLimiter } from '../../metrics/label-limiter';
import type { QuarantineCounters } from './quarantine.service';

/** Counters of reports and quarantine decisions; /metrics exposes them. */
export class QuarantineMetrics implements QuarantineCounters {
  private readonly types = new LabelLimiter();
  private readonly reports: Counter<'exercise_type'>;
  private readonly quarantined: Counter<'exercise_type'>;
  private readonly resolved: Counter<'action'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reports = new Counter({ name: 'exercise_cache_reports_total', help: 'Learner reports recorded, by exercise type', labelNames: ['exercise_type'], registers });
    this.quarantined = new Counter({
      name: 'exercise_cache_quarantined_total',
      help: 'Entries put in quarantine (no longer served) by reports, by exercise type',
      labelNames: ['exercise_type'],
      registers,
    });
    this.resolved = new Counter({
      name: 'exercise_cache_quarantine_resolved_total',
      help: 'Quarantined entries released (served again) or deleted',
      labelNames: ['action'],
      registers,
    });
  }

  reported(exerciseType: string, quarantined: boolean): void {
    const label = this.types.label(exerciseType);
    this.reports.inc({ exercise_type: label });
    if (quarantined) this.quarantined.inc({ exercise_type: label });
  }

  released(): void {
    this.resolved.inc({ action: 'release' });
  }

  deleted(): void {
    this.resolved.inc({ action: 'delete' });
  }
}
