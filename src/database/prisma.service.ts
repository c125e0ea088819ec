import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { AppConfig } from '../config/app-config';
import { PrismaClient } from '../generated/prisma/client';
import { DATABASE_HANDLE, DatabaseHandle, preparedStatementsOn, sessionUrlOf } from './database-handle';
import { clientClassFor } from './prepared-statements';
import { CacheSqlNames, cacheSqlNames } from './sql-names';

type BeforeClose = () => Promise<void>;

/**
 * The Prisma client on a `pg` pool (Rust-free client, @prisma/adapter-pg). The hot paths of the
 * cache use the same pool directly through `pool`, which saves Prisma's per-query overhead (the
 * in-process table of `npm run bench` reads one row through both).
 * `sessionPool` serves what must stay on one PostgreSQL session (session advisory locks): on
 * DATABASE_DIRECT_URL when set, since a transaction-mode pooler at DATABASE_URL cannot keep one.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  private readonly logger = new Logger(PrismaService.name);
  private readonly beforeClose: BeforeClose[] = [];
  readonly pool: Pool;
  readonly sessionPool: Pool;
  /** Qualified names in DATABASE_SCHEMA for every query on `pool`; Prisma's own queries qualify through the adapter. */
  readonly names: CacheSqlNames;

  constructor(@Inject(DATABASE_HANDLE) database: DatabaseHandle, config: AppConfig) {
    const pool = new Pool({
      Client: clientClassFor(preparedStatementsOn(config, database)),
      connectionString: database.url,
      max: config.DATABASE_POOL_SIZE,
      connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
      // PgBouncer refuses statement_timeout as a startup parameter; there the client-side
      // query_timeout bounds every query (and the role's own statement_timeout, if set).
      ...(database.profile?.statementTimeoutAtConnect === false ? {} : { statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS }),
      query_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS + 1000,
      idleTimeoutMillis: 30000,
      application_name: 'exercise-cache',
    });
    const names = cacheSqlNames(database.schema);
    super({ adapter: new PrismaPg(pool, { schema: names.schema }) });
    this.pool = pool;
    this.names = names;
    // Generation locks wait on these connections, so they are not taken from the query pool; one
    // more than half the query pool leaves room for a maintenance job's lock.
    this.sessionPool = new Pool({
      Client: clientClassFor(true),
      connectionString: sessionUrlOf(database),
      max: Math.max(2, Math.ceil(config.DATABASE_POOL_SIZE / 2)) + 1,
      connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 10000,
      application_name: 'exercise-cache-locks',
    });
    // An idle connection that the server drops (restart, outage) must not crash the process.
    pool.on('error', (error) => this.logger.warn(`idle database connection lost: ${error.message}`));
    this.sessionPool.on('error', (error) => this.logger.warn(`idle session connection lost: ${error.message}`));
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
    if (!this.sessionPool.ended) await this.sessionPool.end();
  }
}
