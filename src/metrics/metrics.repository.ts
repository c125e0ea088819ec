import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';

export interface CacheSnapshot {
  activeEntries: number;
  expiredEntries: number;
  hits: number;
  nearHits: number;
  misses: number;
}

/** The queries behind the gauges that /metrics computes from the database at scrape time. */
@Injectable()
export class MetricsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Entry counts and recorded lookup outcomes in one round trip. Counting on expires_at alone
   * lets PostgreSQL answer from idx_exercise_expires_at; the lookup stats have one row per day,
   * type and difficulty, so summing them is cheap.
   */
  async snapshot(): Promise<CacheSnapshot> {
    const { rows } = await this.prisma.pool.query<{ active: string; expired: string; hits: string; near_hits: string; misses: string }>({
      name: this.prisma.names.statement('exercise_cache_metrics_snapshot'),
      text: `SELECT e.active, e.expired, l.hits, l.near_hits, l.misses
             FROM (SELECT count(*) FILTER (WHERE expires_at > now()) AS active,
                          count(*) FILTER (WHERE expires_at <= now()) AS expired
                   FROM ${this.prisma.names.exerciseCache}) e
             CROSS JOIN (SELECT coalesce(sum(hits), 0) AS hits, coalesce(sum(near_hits), 0) AS near_hits,
                                coalesce(sum(misses), 0) AS misses
                         FROM ${this.prisma.names.lookupStats}) l`,
    });
    const row = rows[0];
    return {
      activeEntries: Number(row.active),
      expiredEntries: Number(row.expired),
      hits: Number(row.hits),
      nearHits: Number(row.near_hits),
      misses: Number(row.misses),
    };
  }
}
