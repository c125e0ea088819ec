import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import { pendingMigrations } from '../database/migrations';

/** The database reads behind /health. */
@Injectable()
export class HealthRepository {
  constructor(private readonly prisma: PrismaService) {}

  async ping(): Promise<void> {
    await this.prisma.pool.query('SELECT 1');
  }

  /** Migrations in prisma/migrations that this database has not applied. */
  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(async (sql) => (await this.prisma.pool.query<{ migration_name: string }>(sql)).rows);
  }

  /** Entries that can be served (expires_at in the future): what MAX_ENTRIES bounds. */
  async countActive(): Promise<number> {
    const { rows } = await this.prisma.pool.query<{ n: number }>({
      name: 'exercise_cache_health_count_active',
      text: 'SELECT count(*)::int AS n FROM exercise_cache WHERE expires_at > now()',
    });
    return rows[0].n;
  }
}
