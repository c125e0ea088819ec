import 'reflect-metadata';
import { Controller, Get, Module, NotFoundException, Query, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { ReferenceRow, keyOfQuery } from './reference-response';

/**
 * The ceiling: NestJS on @nestjs/platform-fastify (the service's platform) answering the same
 * GET from an in-process Map, with no validation, logging, auth, metrics or database on the
 * request path: what the framework alone costs. Started by the bench in a child process of its
 * own: BENCH_DATABASE_URL, BENCH_PORT, BENCH_KEYS_FILE (the seeded keys the hit runs request).
 */
const entries = new Map<string, object>();

@Controller('exercise-cache')
class CeilingController {
  @Get()
  lookup(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply): object {
    const key = keyOfQuery(query.type, query.difficulty, query.topics) ?? '';
    const entry = entries.get(key);
    if (!entry) {
      void reply.header('X-Cache', 'MISS');
      throw new NotFoundException({ statusCode: 404, message: 'no cached exercise for this context', key });
    }
    void reply.header('X-Cache', 'HIT');
    return entry;
  }
}

@Module({ controllers: [CeilingController] })
class CeilingModule {}

async function main(): Promise<void> {
  const keys = JSON.parse(readFileSync(process.env.BENCH_KEYS_FILE!, 'utf8')) as string[];
  const client = new Client({ connectionString: process.env.BENCH_DATABASE_URL });
  await client.connect();
  const { rows } = await client.query<ReferenceRow>(
    'SELECT cache_key, exercise_data, usage_count, created_at, expires_at FROM exercise_cache WHERE cache_key = ANY($1)',
    [keys],
  );
  await client.end();
  for (const row of rows) {
    entries.set(row.cache_key, {
      key: row.cache_key,
      exercise: row.exercise_data,
      createdAt: row.created_at.toISOString(),
      expiresAt: row.expires_at.toISOString(),
      usageCount: row.usage_count,
    });
  }
  const app = await NestFactory.create<NestFastifyApplication>(CeilingModule, new FastifyAdapter(), { logger: false });
  await app.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`ceiling server failed: ${String(error)}\n`);
  process.exit(1);
});
