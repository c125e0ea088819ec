import type { Command } from 'commander';
import { MAX_ENTRIES_LIMIT, MAX_GENERATOR_VERSION_LENGTH } from '../../cache/context-rules';
import { AppConfig } from '../../config/app-config';
import { MaintenanceService } from '../../maintenance/maintenance.service';
import { integerIn } from '../options';
import { integer, printJson, printLines } from '../output';
import type { Run } from './run';

/**
 * cleanup, evict and refresh run through MaintenanceService, as POST /exercise-cache/maintenance/*
 * does: they take the job's lock (never twice at once across replicas) and are recorded in the
 * run history that the dashboard shows.
 */
export function registerMaintenanceCommands(program: Command, run: Run): void {
  program
    .command('cleanup')
    .description('delete expired entries now')
    .action((_options, command: Command) =>
      run(command, async (app, { json }) => {
        const result = await app.get(MaintenanceService).runNow('cleanup');
        if (json) return printJson(result);
        printLines([`removed ${integer(result.affected)} expired entries (${result.durationMs} ms)`]);
      }),
    );

  program
    .command('evict')
    .description('delete least recently used entries until at most --max live entries remain')
    .option('--max <n>', 'entries to keep (default MAX_ENTRIES)', integerIn(0, MAX_ENTRIES_LIMIT))
    .action((options: { max?: number }, command: Command) =>
      run(command, async (app, { json }) => {
        const maxEntries = options.max ?? app.get(AppConfig).MAX_ENTRIES;
        const result = await app.get(MaintenanceService).runNow('evict', { maxEntries });
        if (json) return printJson({ ...result, maxEntries });
        printLines([`evicted ${integer(result.affected)} entries, keeping at most ${integer(maxEntries)} (${result.durationMs} ms)`]);
      }),
    );

  program
    .command('refresh')
    .description('refresh the daily metrics view (exercise_cache_daily_metrics)')
    .action((_options, command: Command) =>
      run(command, async (app, { json }) => {
        const result = await app.get(MaintenanceService).runNow('refresh');
        if (json) return printJson(result);
        printLines([`daily metrics refreshed: ${integer(result.affected)} rows (${result.durationMs} ms)`]);
      }),
    );

  program
    .command('retire')
    .description('delete entries of every generator version but --generator-version (and entries without one), in --namespace only when given')
    .requiredOption('--generator-version <version>', `the generator version to keep (1..${MAX_GENERATOR_VERSION_LENGTH} printable ASCII characters)`)
    .option('--namespace <name>', 'only retire entries of this namespace')
    .action((options: { generatorVersion: string; namespace?: string }, command: Command) =>
      run(command, async (app, { json }) => {
        const result = await app.get(MaintenanceService).runNow('retire', { retire: { generatorVersion: options.generatorVersion, namespace: options.namespace } });
        if (json) return printJson(result);
        printLines([`retired ${integer(result.affected)} entries of other generator versions (${result.durationMs} ms)`]);
      }),
    );
}
