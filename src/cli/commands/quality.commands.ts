import type { Command } from 'commander';
import { ExerciseSchemaRegistry } from '../../quality/schemas/exercise-schema-registry';
import { QuarantinedEntryResponse } from '../../quality/quarantine/quarantine.dto';
import { MAX_QUARANTINE_LIST, QuarantineService } from '../../quality/quarantine/quarantine.service';
import { CliError, EXIT } from '../exit-codes';
import { integerIn } from '../options';
import { printJson, printLines, table } from '../output';
import type { Run } from './run';

/** `schemas`, `report` and `quarantine list|release|delete`: the quality side of the API from the shell. */
export function registerQualityCommands(program: Command, run: Run): void {
  program
    .command('schemas')
    .description('list the exercise types that have a JSON Schema (EXERCISE_SCHEMAS_DIR); --json prints the schemas')
    .action((_options, command: Command) =>
      run(command, async (app, { json }) => {
        const schemas = app.get(ExerciseSchemaRegistry).list();
        if (json) return printJson(schemas.map(({ exerciseType, schema }) => ({ exerciseType, schema })));
        printLines(schemas.length === 0 ? ['no exercise schemas (EXERCISE_SCHEMAS_DIR is unset or holds no <type>.schema.json)'] : schemas.map((s) => `${s.exerciseType}  ${s.file ?? ''}`.trimEnd()));
      }),
    );

  program
    .command('report <key>')
    .description('report a wrong exercise; at QUARANTINE_AFTER_REPORTS open reports it is quarantined (never served)')
    .requiredOption('--reason <text>', 'what is wrong with it (1..500 characters)')
    .option('--reporter <id>', 'opaque id of who reports it (one report per reporter per entry)')
    .action((key: string, options: { reason: string; reporter?: string }, command: Command) =>
      run(command, async (app, { json }) => {
        const result = await app.get(QuarantineService).report(key, { reason: options.reason, reporter: options.reporter });
        if (result.outcome === 'not_found') throw new CliError(`no cached exercise with this key (${key})`, EXIT.NOT_FOUND);
        if (result.outcome === 'duplicate') throw new CliError('this reporter has already reported this entry', EXIT.USAGE_ERROR);
        const { outcome: _outcome, ...recorded } = result;
        if (json) return printJson(recorded);
        printLines([`reported ${key}: ${recorded.reports} open ${recorded.reports === 1 ? 'report' : 'reports'}${recorded.quarantined ? ', in quarantine (not served)' : ''}`]);
      }),
    );

  const quarantine = program.command('quarantine').description('entries that reports have put in quarantine');

  quarantine
    .command('list')
    .description('quarantined entries, most recent first, with their reports')
    .option('--limit <n>', `at most this many (1..${MAX_QUARANTINE_LIST}, default 100)`, integerIn(1, MAX_QUARANTINE_LIST))
    .action((options: { limit?: number }, command: Command) =>
      run(command, async (app, { json }) => {
        const entries = (await app.get(QuarantineService).list(options.limit ?? 100)).map(QuarantinedEntryResponse.from);
        if (json) return printJson(entries);
        if (entries.length === 0) return printLines(['no entries in quarantine']);
        printLines(
          table(
            ['KEY', 'TYPE', 'DIFFICULTY', 'TOPICS', 'QUARANTINED', 'REASONS'],
            entries.map((e) => [e.key, e.exerciseType, String(e.difficulty), e.topics.join(','), e.quarantinedAt, e.reports.map((r) => r.reason).join(' | ')]),
            [false, false, true, false, false, false],
          ),
        );
      }),
    );

  quarantine
    .command('release <key>')
    .description('serve a quarantined entry again (its reports are dismissed); not in quarantine exits with 3')
    .action((key: string, _options, command: Command) =>
      run(command, async (app, { json }) => {
        if (!(await app.get(QuarantineService).release(key))) throw new CliError(`no quarantined entry with this key (${key})`, EXIT.NOT_FOUND);
        if (json) return printJson({ key, released: true });
        printLines([`released ${key}`]);
      }),
    );

  quarantine
    .command('delete <key>')
    .description('delete a quarantined entry; not in quarantine exits with 3')
    .action((key: string, _options, command: Command) =>
      run(command, async (app, { json }) => {
        if (!(await app.get(QuarantineService).remove(key))) throw new CliError(`no quarantined entry with this key (${key})`, EXIT.NOT_FOUND);
        if (json) return printJson({ key, deleted: true });
        printLines([`deleted ${key}`]);
      }),
    );
}
