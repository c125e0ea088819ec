import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { cacheKeyFor } from '../../cache/cache-key';
import { isStale } from '../../cache/cache-entry';
import type { LookupOptions } from '../../cache/exercise-cache-options';
import { CachedExerciseResponse } from '../../cache/dto/exercise-responses.dto';
import { CacheInvalidationService } from '../../cache/cache-invalidation.service';
import { ExerciseLookupService } from '../../cache/exercise-lookup.service';
import { ExerciseStoreService } from '../../cache/exercise-store.service';
import { MAX_DIFFICULTY, MAX_NAMESPACE_LENGTH, MAX_TTL_SECONDS, MAX_TYPE_LENGTH, MAX_VARIANTS, MIN_DIFFICULTY } from '../../cache/context-rules';
import { CliError, EXIT, UsageError } from '../exit-codes';
import { ContextFlags, contextOf, hasContextFlags, integerIn, numberIn, topicList } from '../options';
import { printJson, printLines } from '../output';
import type { Run } from './run';

const withContextFlags = (command: Command): Command =>
  command
    .option('--type <type>', `exercise type (1..${MAX_TYPE_LENGTH} characters of a-z, 0-9, "_", "-")`)
    .option('--difficulty <n>', `difficulty, ${MIN_DIFFICULTY}..${MAX_DIFFICULTY}`, integerIn(MIN_DIFFICULTY, MAX_DIFFICULTY))
    .option('--topics <list>', 'comma-separated topics (order, case and repeats do not matter)', topicList)
    .option('--namespace <name>', `namespace of the context (1..${MAX_NAMESPACE_LENGTH} characters of a-z, 0-9, "_", ".", ":", "-"); default: none`);

interface GetFlags extends ContextFlags {
  key?: string;
  variants?: number;
  generatorVersion?: string;
  maxStale?: number;
  onlyIfCached?: boolean;
}

const lookupOptionsOf = ({ variants, generatorVersion, maxStale, onlyIfCached }: GetFlags): LookupOptions => ({
  variants,
  generatorVersion,
  maxStaleSeconds: maxStale,
  onlyIfCached: onlyIfCached === true,
});

export function registerEntryCommands(program: Command, run: Run): void {
  withContextFlags(program.command('get'))
    .description('print the cached exercise for a context (or --key); a miss exits with 3')
    .option('--key <key>', 'look up by cache key instead of by context')
    .option('--generator-version <version>', 'only an entry written with this generator version is fresh (others are a miss)')
    .option('--variants <n>', `bucket size when the context keeps several variants (1..${MAX_VARIANTS})`, integerIn(1, MAX_VARIANTS))
    .option('--max-stale <seconds>', `also accept an entry that expired at most this many seconds ago, as stale (0..${MAX_TTL_SECONDS}; Cache-Control max-stale)`, integerIn(0, MAX_TTL_SECONDS))
    .option('--only-if-cached', 'answer from the cache only (Cache-Control only-if-cached); get never generates, so a miss is the usual miss')
    .action((options: GetFlags, command: Command) => {
      if (options.key !== undefined && hasContextFlags(options)) throw new UsageError('get takes either --key or --type/--difficulty/--topics, not both');
      if (options.key !== undefined && options.maxStale !== undefined) throw new UsageError('--max-stale needs a context (--type/--difficulty/--topics): --key answers live entries only');
      const context = options.key === undefined ? contextOf(options, 'get') : undefined;
      return run(command, async (app, { json }) => {
        const lookups = app.get(ExerciseLookupService);
        const entry = context ? await lookups.lookup(context, lookupOptionsOf(options)) : await lookups.getByKey(options.key!);
        if (!entry) {
          const key = context ? cacheKeyFor(context) : options.key;
          throw new CliError(`no cached exercise for this ${context ? 'context' : 'key'} (key ${key})`, EXIT.NOT_FOUND);
        }
        const stale = isStale(entry);
        if (json) return printJson(stale ? { ...CachedExerciseResponse.from(entry), stale } : CachedExerciseResponse.from(entry));
        printLines([JSON.stringify(entry.exercise, null, 2)]);
        // stdout stays the exercise alone; that it is stale is said where errors go.
        if (stale) process.stderr.write(`note: stale answer: expired ${entry.expiresAt.toISOString()}\n`);
      });
    });

  withContextFlags(program.command('set'))
    .description('store an exercise for a context')
    .option('--exercise <json>', 'the exercise as a JSON object')
    .option('--generator-version <version>', 'the generator (prompt, model) version the exercise was made with')
    .option('--file <path>', 'read the exercise (a JSON object) from a file; "-" reads stdin')
    .option('--ttl <seconds>', `time to live, 1..${MAX_TTL_SECONDS} (default CACHE_DEFAULT_TTL_SECONDS)`, integerIn(1, MAX_TTL_SECONDS))
    .option('--cost <dollars>', 'what generating it cost (default CACHE_DEFAULT_GENERATION_COST)', numberIn(0, 9999))
    .option('--variants <n>', `bucket size: store as a new variant while fewer than n exist (1..${MAX_VARIANTS})`, integerIn(1, MAX_VARIANTS))
    .action(async (options: ContextFlags & { exercise?: string; file?: string; ttl?: number; cost?: number; variants?: number; generatorVersion?: string }, command: Command) => {
      const context = contextOf(options, 'set');
      const exercise = await exerciseFrom(options);
      return run(command, async (app, { json }) => {
        const stored = await app.get(ExerciseStoreService).set(context, exercise, {
          ttlSeconds: options.ttl,
          generationCost: options.cost,
          variants: options.variants,
          generatorVersion: options.generatorVersion,
        });
        const result = { key: stored.key, expiresAt: stored.expiresAt.toISOString() };
        if (json) return printJson(result);
        printLines([`stored ${result.key} (expires ${result.expiresAt})`]);
      });
    });

  withContextFlags(program.command('invalidate [key]'))
    .description('remove one entry by key, every variant of a context, or (--namespace alone) every entry of a namespace; removing nothing exits with 3')
    .action((key: string | undefined, options: ContextFlags, command: Command) => {
      if (key !== undefined && (hasContextFlags(options) || options.namespace !== undefined)) {
        throw new UsageError('invalidate takes either a key or --type/--difficulty/--topics/--namespace, not both');
      }
      const wholeNamespace = key === undefined && !hasContextFlags(options) && options.namespace !== undefined;
      const target = key ?? (wholeNamespace ? undefined : contextOf(options, 'invalidate'));
      return run(command, async (app, { json }) => {
        const invalidation = app.get(CacheInvalidationService);
        const removed = target === undefined ? await invalidation.invalidateNamespace(options.namespace!) : await invalidation.invalidate(target);
        if (json) printJson({ removed });
        else printLines([`removed ${removed} ${removed === 1 ? 'entry' : 'entries'}`]);
        if (removed === 0) throw new CliError(`nothing to invalidate: no entry for this ${key ? 'key' : 'context'}`, EXIT.NOT_FOUND);
      });
    });
}

/** --exercise or --file (exactly one), parsed before anything starts. */
async function exerciseFrom(options: { exercise?: string; file?: string }): Promise<Record<string, unknown>> {
  if ((options.exercise === undefined) === (options.file === undefined)) throw new UsageError('set needs exactly one of --exercise <json> or --file <path>');
  let text: string;
  let source: string;
  if (options.exercise !== undefined) {
    text = options.exercise;
    source = '--exercise';
  } else {
    source = options.file === '-' ? 'stdin' : options.file!;
    try {
      text = options.file === '-' ? await readStdin() : await readFile(options.file!, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${source}: ${(error as Error).message}`, EXIT.RUNTIME_ERROR);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${source} must hold a JSON object`);
  return value as Record<string, unknown>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
