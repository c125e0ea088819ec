import { createHash, randomUUID } from 'node:crypto';
import type { ClientBase } from 'pg';
import { qualifiedName } from './database-schema';

/**
 * Prisma's migration bookkeeping table, exactly as its schema engine creates it. We create it
 * ourselves only where the engine would refuse to start (P3005: a schema that already holds
 * unrelated tables) and when adopting the guide's migration 007 in one transaction.
 */
export function createMigrationsTableSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(schema, '_prisma_migrations')} (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum VARCHAR(64) NOT NULL,
    finished_at TIMESTAMPTZ,
    migration_name VARCHAR(255) NOT NULL,
    logs TEXT,
    rolled_back_at TIMESTAMPTZ,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count INTEGER NOT NULL DEFAULT 0
  )`;
}

/** The checksum `prisma migrate deploy` records: SHA-256 of the migration file as stored. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** Records one migration as applied, the way the engine records a successful one. */
export async function recordAppliedMigration(client: ClientBase, schema: string, name: string, sql: string): Promise<void> {
  await client.query(
    `INSERT INTO ${qualifiedName(schema, '_prisma_migrations')}
       (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
    [randomUUID(), migrationChecksum(sql), name],
  );
}
