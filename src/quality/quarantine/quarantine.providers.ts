import type { Provider } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { PrismaService } from '../../database/prisma.service';
import { InvalidationBus } from '../../cache/invalidation-bus';
import { L1Cache } from '../../cache/l1-cache';
import { MetricsRegistry } from '../../metrics/metrics-registry';
import { QuarantineMetrics } from './quarantine-metrics';
import { QuarantineRepository } from './quarantine.repository';
import { QuarantineService } from './quarantine.service';

/** The framework-free quarantine classes, built for Nest by factories (registered in CacheModule). */
export const QUARANTINE_PROVIDERS: Provider[] = [
  { provide: QuarantineRepository, useFactory: (prisma: PrismaService) => new QuarantineRepository(prisma.pool, prisma.names), inject: [PrismaService] },
  { provide: QuarantineMetrics, useFactory: (registry: MetricsRegistry) => new QuarantineMetrics(registry), inject: [MetricsRegistry] },
  {
    provide: QuarantineService,
    useFactory: (repository: QuarantineRepository, l1: L1Cache, bus: InvalidationBus, metrics: QuarantineMetrics, config: AppConfig) =>
      new QuarantineService(repository, l1, bus, { quarantineAfterReports: config.QUARANTINE_AFTER_REPORTS }, metrics),
    inject: [QuarantineRepository, L1Cache, InvalidationBus, QuarantineMetrics, AppConfig],
  },
];
