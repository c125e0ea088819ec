import 'reflect-metadata';
import { Controller, Get, Module, NotFoundException, Query, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import type { CachedEntry } from '../src/cache/cache-entry';
import { keyOfQuery } from './reference-response';

/**
 * The ceiling: NestJS on @nestjs/platform-fastify (the service's platform) answering the same
 * GET from an in-process Map, with no validation, logging, auth, metrics or database at all:
 * what the framework alone costs. Started by the bench in a child process of its own:
 * BENCH_PORT, BENCH_ENTRIES_FILE (the seeded entries the hit runs request, as JSON).
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
  const stored = JSON.parse(readFileSync(process.env.BENCH_ENTRIES_FILE!, 'utf8')) as (Omit<CachedEntry, 'createdAt' | 'expiresAt'> & { createdAt: string; expiresAt: string })[];
  for (const entry of stored) {
    entries.set(entry.key, { key: entry.key, exercise: entry.exercise, createdAt: entry.createdAt, expiresAt: entry.expiresAt, usageCount: entry.usageCount });
  }
  const app = await NestFactory.create<NestFastifyApplication>(CeilingModule, new FastifyAdapter(), { logger: false });
  await app.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`ceiling server failed: ${String(error)}\n`);
  process.exit(1);
});
