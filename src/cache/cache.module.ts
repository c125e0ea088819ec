import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../config/app-config';
import { cacheSettingsOf } from '../config/cache-settings';
import { DATABASE_HANDLE, DatabaseHandle, sessionUrlOf } from '../database/database-handle';
import { PrismaService } from '../database/prisma.service';
import type { OpenedExerciseCache } from '../library/open-exercise-cache';
import { CacheMetrics } from '../metrics/cache-metrics.service';
import { LeaseMetrics } from '../metrics/lease-metrics.service';
import { ExerciseCacheModule, OPENED_EXERCISE_CACHE } from '../nest/exercise-cache.module';
import { QUARANTINE_PROVIDERS } from '../quality/quarantine/quarantine.providers';
import { QuarantineService } from '../quality/quarantine/quarantine.service';
import { ExerciseSchemaRegistry } from '../quality/schemas/exercise-schema-registry';
import { schemaRegistryFor } from '../quality/schemas/schema-registry-for-config';
import { ExerciseTransferRepository } from './exercise-transfer.repository';
import { ExerciseCacheStatsController } from './exercise-cache-stats.controller';
import { ExerciseCacheController } from './exercise-cache.controller';
import { CacheInvalidationService } from './cache-invalidation.service';
import { CacheMaintenanceService } from './cache-maintenance.service';
import { CacheStatisticsService } from './cache-statistics.service';
import { ExerciseLookupService } from './exercise-lookup.service';
import { ExerciseStoreService } from './exercise-store.service';
import { GetOrGenerateService } from './get-or-generate.service';
import { InvalidationBus } from './invalidation-bus';
import { L1Cache } from './l1-cache';
import { LeaseCoordinator } from './lease-coordinator';
import { LeaseRepository } from './lease.repository';

/**
 * The package's own ExerciseCacheModule (one way in for everyone) on the service's pools,
 * configuration, schemas and Prometheus metrics.
 */
const exerciseCache = ExerciseCacheModule.forRootAsync({
  inject: [PrismaService, AppConfig, CacheMetrics, DATABASE_HANDLE],
  useFactory: (prisma: PrismaService, config: AppConfig, metrics: CacheMetrics, database: DatabaseHandle) => ({
    pool: prisma.pool,
    schema: prisma.names.schema,
    sessionPool: prisma.sessionPool,
    session: { connectionString: sessionUrlOf(database), connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS },
    ...cacheSettingsOf(config),
    schemas: schemaRegistryFor(config),
    hooks: metrics,
  }),
});

/** A part of the running cache, for the service's own features (leases, quarantine, schemas). */
const fromCache = <T>(token: abstract new (...args: never[]) => T, pick: (cache: OpenedExerciseCache) => T) => ({
  provide: token,
  useFactory: pick,
  inject: [OPENED_EXERCISE_CACHE],
});

/** The narrow services of the running cache: each consumer injects the one it needs. */
const CACHE_SERVICES = [
  fromCache(ExerciseLookupService, (cache) => cache.core.lookup),
  fromCache(ExerciseStoreService, (cache) => cache.core.store),
  fromCache(GetOrGenerateService, (cache) => cache.core.generation),
  fromCache(CacheStatisticsService, (cache) => cache.core.statistics),
  fromCache(CacheInvalidationService, (cache) => cache.core.invalidation),
  fromCache(CacheMaintenanceService, (cache) => cache.core.maintenance),
];

/**
 * The service's cache: ExerciseCacheModule plus the HTTP controllers, leases and quarantine.
 * Import it to inject the cache's narrow services (or the whole ExerciseCacheService) anywhere in
 * the application.
 */
@Module({
  imports: [exerciseCache, AuthModule],
  controllers: [ExerciseCacheStatsController, ExerciseCacheController],
  providers: [
    fromCache(ExerciseTransferRepository, (cache) => cache.core.transfer),
    ...CACHE_SERVICES,
    fromCache(L1Cache, (cache) => cache.core.l1),
    fromCache(InvalidationBus, (cache) => cache.core.bus),
    { provide: ExerciseSchemaRegistry, useFactory: schemaRegistryFor, inject: [AppConfig] },
    { provide: LeaseRepository, useFactory: (prisma: PrismaService) => new LeaseRepository(prisma.pool, prisma.names), inject: [PrismaService] },
    {
      provide: LeaseCoordinator,
      useFactory: (lookups: ExerciseLookupService, store: ExerciseStoreService, leases: LeaseRepository, bus: InvalidationBus, metrics: LeaseMetrics) =>
        new LeaseCoordinator(lookups, store, leases, bus, (outcome) => metrics.count(outcome)),
      inject: [ExerciseLookupService, ExerciseStoreService, LeaseRepository, InvalidationBus, LeaseMetrics],
    },
    ...QUARANTINE_PROVIDERS,
  ],
  exports: [exerciseCache, ExerciseTransferRepository, ...CACHE_SERVICES.map((provider) => provider.provide), ExerciseSchemaRegistry, L1Cache, InvalidationBus, LeaseRepository, QuarantineService],
})
export class CacheModule {}
