import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HttpException } from '@nestjs/common';
import { Command, CommanderError } from 'commander';
import { InvalidCacheRequestError } from '../cache/context-rules';
import { isStorageUnavailable } from '../common/storage-unavailable';
import { withApplication } from './cli-context';
import { registerEntryCommands } from './commands/entry.commands';
import { registerMaintenanceCommands } from './commands/maintenance.commands';
import { registerMigrateCommand } from './commands/migrate.command';
import { registerQualityCommands } from './commands/quality.commands';
import type { GlobalOptions, Run } from './commands/run';
import { registerStatsCommand } from './commands/stats.command';
import { registerTransferCommands } from './commands/transfer.commands';
import { CliError, EXIT, oneLineReason } from './exit-codes';
import { ImportAbortedError } from './transfer/exercise-importer';

/** Parses argv, runs the command, prints any error as one line on stderr; resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.OK;
  let verbose = argv.includes('--verbose') || argv.includes('-v');
  const run: Run = async (command, action) => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    verbose = Boolean(globals.verbose);
    exitCode = (await withApplication({ verbose }, (app) => action(app, { json: Boolean(globals.json), verbose }))) ?? EXIT.OK;
  };
  try {
    await buildProgram(run).parseAsync(argv);
    return exitCode;
  } catch (error) {
    return report(error, verbose);
  }
}

export function buildProgram(run: Run): Command {
  const program = new Command('exercise-cache')
    .description('Inspect, maintain and pre-warm the exercise cache (uses DATABASE_URL, or the embedded PostgreSQL like `npm start`)')
    .version(packageVersion(), '-V, --version')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('-v, --verbose', 'log database and service messages on stderr')
    .exitOverride()
    .configureOutput({
      // Commander's own usage errors, as one line like every other error.
      outputError: (message, write) => write(`${message.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 runtime error, 2 usage error, 3 not found (get miss, invalidate removed nothing, no such quarantined entry), 4 import rejected some lines.',
    );
  registerMigrateCommand(program);
  registerStatsCommand(program, run);
  registerMaintenanceCommands(program, run);
  registerEntryCommands(program, run);
  registerTransferCommands(program, run);
  registerQualityCommands(program, run);
  return program;
}

function report(error: unknown, verbose: boolean): number {
  // Commander has already printed its message (or the help / version it was asked for).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE_ERROR;
  let code: number = EXIT.RUNTIME_ERROR;
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof CliError) {
    code = error.exitCode;
  } else if (error instanceof InvalidCacheRequestError) {
    code = EXIT.USAGE_ERROR;
  } else if (error instanceof HttpException) {
    const status = error.getStatus();
    code = status === 400 ? EXIT.USAGE_ERROR : status === 404 ? EXIT.NOT_FOUND : EXIT.RUNTIME_ERROR;
    const response = error.getResponse() as { message?: string | string[] } | string;
    const detail = typeof response === 'string' ? response : response.message;
    message = Array.isArray(detail) ? detail.join('; ') : (detail ?? message);
  } else if (error instanceof ImportAbortedError) {
    message = error.message; // says where the import stopped; the reason is already one line
  } else if (isStorageUnavailable(error)) {
    message = `cache storage unavailable: ${oneLineReason(error)}`;
  }
  process.stderr.write(`error: ${message.trim().replace(/\s*\n\s*/g, ' ')}\n`);
  if (verbose && error instanceof Error && error.stack && !(error instanceof CliError)) process.stderr.write(`${error.stack}\n`);
  return code;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
