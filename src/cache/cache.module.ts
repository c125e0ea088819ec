import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../config/app-config';
import { ExerciseSchemaRegistry } from '../quality/schemas/exercise-schema-registry';
import { schemaRegistryFor } from '../quality/schemas/schema-registry-for-config';
import { PrismaService } from '../database/prisma.service';
import { LeaseMetrics } from '../metrics/lease-metrics.service';
import { QUARANTINE_PROVIDERS } from '../quality/quarantine/quarantine.providers';
import { QuarantineService } from '../quality/quarantine/quarantine.service';
import { ExerciseCacheStatsController } from './exercise-cache-stats.controller';
import { ExerciseCacheController } from './exercise-cache.controller';
import { ExerciseCacheRepository } from './exercise-cache.repository';
import { ExerciseCacheService } from './exercise-cache.service';
import { GenerationLock } from './generation-lock';
import { InvalidationBus } from './invalidation-bus';
import { L1Cache } from './l1-cache';
import { LeaseCoordinator } from './lease-coordinator';
import { LeaseRepository } from './lease.repository';
import { UsageBuffer } from './usage-buffer';
import { VariantPicker } from './variant-picker';

/** Import this module to inject ExerciseCacheService anywhere in the application. */
@Module({
  imports: [AuthModule],
  controllers: [ExerciseCacheStatsController, ExerciseCacheController],
  providers: [
    ExerciseCacheRepository,
    ExerciseCacheService,
    GenerationLock,
    InvalidationBus,
    L1Cache,
    UsageBuffer,
    VariantPicker,
    { provide: ExerciseSchemaRegistry, useFactory: schemaRegistryFor, inject: [AppConfig] },
    { provide: LeaseRepository, useFactory: (prisma: PrismaService) => new LeaseRepository(prisma.pool, prisma.names), inject: [PrismaService] },
    {
      provide: LeaseCoordinator,
      useFactory: (cache: ExerciseCacheService, leases: LeaseRepository, bus: InvalidationBus, metrics: LeaseMetrics) =>
        new LeaseCoordinator(cache, leases, bus, (outcome) => metrics.count(outcome)),
      inject: [ExerciseCacheService, LeaseRepository, InvalidationBus, LeaseMetrics],
    },
    ...QUARANTINE_PROVIDERS,
  ],
  exports: [ExerciseCacheService, ExerciseSchemaRegistry, L1Cache, InvalidationBus, LeaseRepository, QuarantineService],
})
export class CacheModule {}
