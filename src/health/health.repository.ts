import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import { pendingMigrations } from '../database/migrations';

/** The database reads behind /health. */
@Injectable()
export class HealthRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Whether the database can take writes: a standby (in recovery, as after a failover that left
   * us on the old primary's replica) or read-only transactions by default cannot.
   */
  async writability(): Promise<{ inRecovery: boolean; readOnly: boolean }> {
    const { rows } = await this.prisma.pool.query<{ in_recovery: boolean; read_only: string }>({
      name: 'exercise_cache_health_writability',
      text: "SELECT pg_is_in_recovery() AS in_recovery, current_setting('transaction_read_only') AS read_only",
    });
    return { inRecovery: rows[0].in_recovery, readOnly: rows[0].read_only === 'on' };
  }

  /** Migrations in prisma/migrations that this database has not applied. */
  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(async (sql) => (await this.prisma.pool.query<{ migration_name: string }>(sql)).rows, this.prisma.names.schema);
  }
}
