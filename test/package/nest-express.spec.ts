import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TestDatabase, createEmptyDatabase } from '../support/test-database';
import { INSTALL_TIMEOUT_MS, RunningProcess, TempApp, createTempApp, lastJsonLine, lockedVersion, packThisPackage } from './package-kit';

/** Nest's platform for Express is not a dependency of this repository (its service runs on Fastify). */
const PLATFORM_EXPRESS = '@nestjs/platform-express@12.5.1';

interface Ready {
  ready: true;
  port: number;
  adapter: string;
  globalEnhancers: string[];
  globalGuards: number | null;
  globalPipes: number | null;
  globalFilters: number | null;
  globalInterceptors: number | null;
}

/**
 * ExerciseCacheModule as a Nest user on Express meets it: `npm pack`, then a fresh folder with
 * the tarball, the Nest packages at this repository's versions and @nestjs/platform-express,
 * a small app in plain JavaScript (test/package/fixtures/nest-express-app.js) and a real,
 * freshly migrated PostgreSQL database per test.
 */
describe('ExerciseCacheModule installed from its tarball into a Nest app on Express', () => {
  let app: TempApp;
  const running: RunningProcess[] = [];
  let db: TestDatabase;

  beforeAll(async () => {
    const nest = ['@nestjs/core', '@nestjs/common', 'rxjs', 'reflect-metadata'].map(lockedVersion);
    // @types/node and @types/pg as a TypeScript user of pg has them (for the type declaration tests).
    const types = ['@types/node', '@types/pg'].map(lockedVersion);
    app = await createTempApp('nest-express', (await packThisPackage()).tarball, [...nest, PLATFORM_EXPRESS, ...types, lockedVersion('pg')]);
    await app.write('nest-express-app.js', await readFile(path.join(__dirname, 'fixtures', 'nest-express-app.js'), 'utf8'));
  }, INSTALL_TIMEOUT_MS + 60_000);

  afterAll(() => app?.remove());

  describe('the app, with a fresh database migrated by the installed npx exercise-cache migrate', () => {
    beforeEach(async () => {
      db = await createEmptyDatabase();
      const migrated = await app.exec('npx', ['exercise-cache', 'migrate'], { DATABASE_URL: db.url });
      // The CLI reports progress on stderr.
      expect({ code: migrated.code, said: migrated.stderr.match(/^migrations applied: .*_init,/m) !== null }).toEqual({ code: 0, said: true });
    }, 120_000);

    afterEach(async () => {
      await Promise.all(running.splice(0).map((p) => p.kill()));
      await db?.drop();
    });

    /** Starts the fixture app and waits for its ready line (the child's whole output is in the error otherwise). */
    async function startApp(registration: 'forRoot' | 'forRootAsync', env: Record<string, string> = {}): Promise<{ process: RunningProcess; ready: Ready; url: string }> {
      const child = app.start('nest-express-app.js', { DATABASE_URL: db.url, REGISTRATION: registration, ...env });
      running.push(child);
      const ready = await child.jsonLine<Ready>((line) => line.ready === true, 90_000);
      return { process: child, ready, url: `http://127.0.0.1:${ready.port}` };
    }

    const exercisePath = (context: { type: string; difficulty: number; topics: string[] }) =>
      `/exercise?type=${context.type}&difficulty=${context.difficulty}&topics=${context.topics.join(',')}`;

    it.each(['forRoot', 'forRootAsync'] as const)('starts on Express with %s, mounts no routes and registers nothing global', async (registration) => {
      const { ready, url } = await startApp(registration);
      expect(ready.adapter).toBe('express');
      expect(ready.globalEnhancers).toEqual([]);
      expect([ready.globalGuards, ready.globalPipes, ready.globalFilters, ready.globalInterceptors]).toEqual([0, 0, 0, 0]);
      for (const route of ['/exercise-cache', '/exercise-cache/stats', '/exercise-cache/lookup', '/metrics', '/health', '/dashboard']) {
        expect({ route, status: (await fetch(url + route)).status }).toEqual({ route, status: 404 });
      }
      const answer = await fetch(url + exercisePath({ type: 'starts', difficulty: 1, topics: ['a'] }));
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ question: 'Fill in: a' });
    });

    it("100 concurrent requests through the app's own route generate once; app.close() writes the counters", async () => {
      const { process: child, url } = await startApp('forRootAsync', { GENERATION_MS: '500' });
      const context = { type: 'express_one_process', difficulty: 2, topics: ['fractions'] };
      const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(url + exercisePath(context)).then(async (r) => ({ status: r.status, body: (await r.json()) as { id: string } }))));
      expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(await (await fetch(`${url}/generations`)).json()).toEqual({ generations: 1 });
      // The 100 callers above missed together (one generated, the rest waited for it); 10 more are hits.
      for (let i = 0; i < 10; i++) expect((await fetch(url + exercisePath(context))).status).toBe(200);
      const usage = async () => (await db.pool.query('SELECT usage_count::int AS n FROM exercise_cache WHERE exercise_type = $1', [context.type])).rows[0].n;
      // Hits are buffered (flushed every minute in this app): none written yet...
      expect(await usage()).toBe(0);
      child.send('close');
      await child.jsonLine<{ closed: boolean }>((line) => line.closed === true, 60_000);
      // ...and all written once app.close() has resolved.
      expect(await usage()).toBe(10);
      await child.ended;
    });

    it('two app processes on one database, 50 requests each at once, generate once', async () => {
      const apps = await Promise.all([startApp('forRoot', { GENERATION_MS: '500' }), startApp('forRootAsync', { GENERATION_MS: '500' })]);
      const context = { type: 'express_two_processes', difficulty: 4, topics: ['verbs', 'tenses'] };
      const answers = await Promise.all(apps.flatMap(({ url }) => Array.from({ length: 50 }, () => fetch(url + exercisePath(context)).then((r) => r.json() as Promise<{ id: string }>))));
      expect(new Set(answers.map((a) => a.id)).size).toBe(1);
      const generations = await Promise.all(apps.map(async ({ url }) => ((await (await fetch(`${url}/generations`)).json()) as { generations: number }).generations));
      expect(generations.reduce((a, b) => a + b, 0)).toBe(1);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM exercise_cache WHERE exercise_type = $1', [context.type]);
      expect(rows[0].n).toBe(1);
      expect(lastJsonLine<Ready>(apps[0].process.output()).adapter).toBe('express');
    });
  });

  /**
   * Types as users compile them: the repository's own TypeScript over a .ts file in the app folder
   * that imports all three entry points, with the CommonJS resolution of Nest's starter tsconfig
   * (node10, which finds exercise-cache/nest and /client through typesVersions) and with nodenext
   * (the exports map). Not node16: Nest 12 is published as ES modules, which a CommonJS file under
   * node16 may not import (TS1479 on the app's own `import ... from '@nestjs/common'`).
   */
  describe('type declarations', () => {
    const TSC = path.join(__dirname, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');
    const MISUSES = [
      "createExerciseCache({ databaseUrl: 'postgresql://localhost/app', defaultTtlSeconds: '60' });",
      "ExerciseCacheModule.forRoot({ databaseUrl: 'postgresql://localhost/app', poolSize: 'ten' });",
      "createExerciseCacheClient({ baseUrl: 42 });",
    ];
    const SETTINGS = {
      node10: { module: 'commonjs', moduleResolution: 'node10' },
      nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
    };

    async function compile(resolution: keyof typeof SETTINGS, misuse: string) {
      const source = (await readFile(path.join(__dirname, 'fixtures', 'typed-usage.ts.txt'), 'utf8')).replace('// MISUSE', misuse);
      const dir = `typed-${resolution}`;
      await app.write(`${dir}/typed-usage.ts`, source);
      await app.write(
        `${dir}/tsconfig.json`,
        JSON.stringify({
          compilerOptions: {
            ...SETTINGS[resolution],
            // Nest's starter, stricter: strict and the declarations checked too (no skipLibCheck).
            target: 'ES2023',
            strict: true,
            skipLibCheck: false,
            experimentalDecorators: true,
            emitDecoratorMetadata: true,
            noEmit: true,
            types: ['node'],
          },
          files: ['typed-usage.ts'],
        }),
      );
      const result = await app.exec(process.execPath, [TSC, '-p', `${dir}/tsconfig.json`, '--pretty', 'false']);
      return { code: result.code, errors: result.stdout.split('\n').filter((line) => /error TS\d+/.test(line)) };
    }

    it.each(Object.keys(SETTINGS) as (keyof typeof SETTINGS)[])('compile with no errors under %s', async (resolution) => {
      expect(await compile(resolution, '')).toEqual({ code: 0, errors: [] });
    });

    it.each(Object.keys(SETTINGS) as (keyof typeof SETTINGS)[])('refuse a wrong option type in each entry point under %s', async (resolution) => {
      const { code, errors } = await compile(resolution, MISUSES.join('\n'));
      expect(code).not.toBe(0);
      expect(errors).toHaveLength(3);
      expect(errors[0]).toMatch(/typed-usage\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
      expect(errors[1]).toMatch(/error TS2322: Type 'string' is not assignable to type 'number'/);
      expect(errors[2]).toMatch(/error TS2322: Type 'number' is not assignable to type 'string'/);
    });
  });
});
