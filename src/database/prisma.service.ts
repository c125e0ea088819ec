import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { AppConfig } from '../config/app-config';
import { PrismaClient } from '../generated/prisma/client';
import { DATABASE_HANDLE, DatabaseHandle } from './database-handle';

type BeforeClose = () => Promise<void>;

/**
 * The Prisma client on a `pg` pool (Rust-free client, @prisma/adapter-pg). The hot paths of the
 * cache use the same pool directly through `pool`, which saves Prisma's per-query overhead.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  private readonly logger = new Logger(PrismaService.name);
  private readonly beforeClose: BeforeClose[] = [];
  readonly pool: Pool;

  constructor(@Inject(DATABASE_HANDLE) database: DatabaseHandle, config: AppConfig) {
    const pool = new Pool({
      connectionString: database.url,
      max: config.DATABASE_POOL_SIZE,
      connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
      statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS,
      query_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS + 1000,
      idleTimeoutMillis: 30000,
      application_name: 'exercise-cache',
    });
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
    // An idle connection that the server drops (restart, outage) must not crash the process.
    pool.on('error', (error) => this.logger.warn(`idle database connection lost: ${error.message}`));
  }

  /** Registers work that must run while the pool is still open at shutdown (flushing buffers). */
  runBeforeClose(task: BeforeClose): void {
    this.beforeClose.push(task);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const task of this.beforeClose) {
      await task().catch((error: Error) => this.logger.error(`shutdown task failed: ${error.message}`));
    }
    await this.$disconnect();
    if (!this.pool.ended) await this.pool.end();
  }
}
