import type { INestApplication } from '@nestjs/common';
import { Client, Pool } from 'pg';
import { ExerciseContext, cacheKeyFor } from '../src/cache/cache-key';
import { loadFromBuild } from './product-build';
import { LatencySummary, Samples } from './stats';

export interface InProcessResult {
  calls: number;
  rounds: number;
  /** Per method: latency of one sequential call, in milliseconds. */
  methods: Record<string, LatencySummary & { nulls: number }>;
}

interface Method {
  name: string;
  call(i: number): Promise<unknown> | unknown;
}

// The raw reference query, deliberately not the cache's repository: it is what service.get() is measured against.
const FIND = {
  name: 'bench_raw_find_live_by_key',
  text: `SELECT cache_key, context_key, variant, exercise_type, difficulty, topics, exercise_data,
           usage_count, created_at, expires_at, generation_cost
         FROM exercise_cache WHERE cache_key = $1 AND expires_at > now()`,
};

/**
 * ExerciseCacheService.get() on a hit (the service of the product build in `dist` booted in this
 * process through createApp, as main.ts boots it, L1 on and L1 off) against one raw pg prepared query of the same row, on a
 * Pool (what the service's repository uses) and on a single Client. The methods are interleaved
 * in rounds so that load from other processes falls on all of them alike.
 */
export async function measureInProcess(dist: string, databaseUrl: string, poolSize: number, contexts: ExerciseContext[], calls: number): Promise<InProcessResult> {
  const { createApp } = loadFromBuild<typeof import('../src/app')>(dist, 'app');
  const { validateConfig } = loadFromBuild<typeof import('../src/config/app-config')>(dist, 'config/app-config');
  const { ExerciseCacheService } = loadFromBuild<typeof import('../src/cache/exercise-cache.service')>(dist, 'cache/exercise-cache.service');
  const { PrismaService } = loadFromBuild<typeof import('../src/database/prisma.service')>(dist, 'database/prisma.service');
  const apps: INestApplication[] = [];
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize });
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const bootService = async (l1: boolean) => {
      const config = validateConfig({
        NODE_ENV: 'production',
        API_KEYS: 'bench-key',
        LOG_LEVEL: 'warn',
        LOG_PRETTY: 'false',
        DATABASE_URL: databaseUrl,
        MIGRATE_ON_START: 'false',
        DATABASE_POOL_SIZE: String(poolSize),
        L1_ENABLED: String(l1),
        CLEANUP_ENABLED: 'false',
        EVICT_ENABLED: 'false',
        REFRESH_ENABLED: 'false',
      });
      const app = await createApp(config, { url: databaseUrl });
      await app.init();
      apps.push(app);
      return app.get(ExerciseCacheService);
    };
    const withL1 = await bootService(true);
    const withoutL1 = await bootService(false);
    // The cache's hot path queries the pg pool directly; these two price Prisma on the same row.
    const prisma = apps[1].get(PrismaService);
    const keys = contexts.map((c) => cacheKeyFor(c));
    const n = contexts.length;
    const methods: Method[] = [
      { name: 'service.get() L1 on', call: (i) => withL1.get(contexts[i % n]) },
      { name: 'service.get() L1 off', call: (i) => withoutL1.get(contexts[i % n]) },
      { name: 'raw pg Pool prepared query', call: async (i) => (await pool.query({ ...FIND, values: [keys[i % n]] })).rows[0] ?? null },
      { name: 'raw pg Client prepared query', call: async (i) => (await client.query({ ...FIND, values: [keys[i % n]] })).rows[0] ?? null },
      { name: 'Prisma $queryRawUnsafe, same SQL', call: async (i) => (await prisma.$queryRawUnsafe<unknown[]>(FIND.text, keys[i % n]))[0] ?? null },
      { name: 'Prisma findFirst (model query)', call: (i) => prisma.exerciseCache.findFirst({ where: { cacheKey: keys[i % n], expiresAt: { gt: new Date() } } }) },
      { name: 'cacheKeyFor() alone', call: (i) => cacheKeyFor(contexts[i % n]) },
    ];
    const samples = new Map(methods.map((m) => [m.name, new Samples()]));
    const nulls = new Map(methods.map((m) => [m.name, 0]));
    for (const method of methods) for (let i = 0; i < Math.min(calls, 2000); i++) await method.call(i);

    // Many short rounds: a burst of load from other processes then hits every method alike.
    const rounds = Math.max(1, Math.min(50, Math.floor(calls / 100)));
    const perRound = Math.ceil(calls / rounds);
    for (let round = 0; round < rounds; round++) {
      for (let m = 0; m < methods.length; m++) {
        const method = methods[(m + round) % methods.length];
        const list = samples.get(method.name)!;
        for (let i = round * perRound; i < (round + 1) * perRound; i++) {
          const started = performance.now();
          const value = await method.call(i);
          list.push(performance.now() - started);
          if (value === null) nulls.set(method.name, nulls.get(method.name)! + 1);
        }
      }
    }
    return {
      calls: perRound * rounds,
      rounds,
      methods: Object.fromEntries(methods.map((m) => [m.name, { ...samples.get(m.name)!.summary(), nulls: nulls.get(m.name)! }])),
    };
  } finally {
    for (const app of apps) await app.close();
    await client.end();
    await pool.end();
  }
}
