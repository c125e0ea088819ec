import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes';
import { integer, printJson, printLines } from '../output';
import { ExerciseExporter } from '../transfer/exercise-exporter';
import { ExerciseImporter, ImportProgress, ImportSummary } from '../transfer/exercise-importer';
import type { Run } from './run';

/** Rejected lines listed in the text summary; --json lists them all. */
const REJECTED_SHOWN = 50;

export function registerTransferCommands(program: Command, run: Run): void {
  program
    .command('export')
    .description('write every live entry as JSON Lines (to stdout, or to --out)')
    .option('--out <file>', 'write to this file (replaced only once the export is complete)')
    .action((options: { out?: string }, command: Command) =>
      run(command, async (app, { json }) => {
        const exporter = app.get(ExerciseExporter);
        if (!options.out) {
          const count = await exporter.export(process.stdout);
          if (process.stderr.isTTY) process.stderr.write(`exported ${integer(count)} entries\n`);
          return;
        }
        const count = await exportToFile(exporter, options.out);
        if (json) return printJson({ exported: count, file: options.out });
        printLines([`exported ${integer(count)} entries to ${options.out}`]);
      }),
    );

  program
    .command('import <file>')
    .description('pre-warm the cache from a JSON Lines file ("-" reads stdin); lines that fail validation are reported, exit 4')
    .action(async (file: string, _options, command: Command) => {
      const size = file === '-' ? undefined : await fileSize(file);
      return run(command, async (app, { json }) => {
        const input: Readable = file === '-' ? process.stdin : createReadStream(file);
        const bar = !json && size !== undefined && process.stderr.isTTY ? progressBar(size) : undefined;
        let summary: ImportSummary;
        try {
          summary = await app.get(ExerciseImporter).import(input, bar ? (p) => updateBar(bar, p) : undefined);
        } finally {
          bar?.stop();
        }
        if (json) printJson(summary);
        else printLines(summaryLines(summary));
        if (summary.rejected.length === 0) return EXIT.OK;
        process.stderr.write(`error: ${summary.rejected.length} of ${summary.lines} lines rejected (the others were imported)\n`);
        return EXIT.LINES_REJECTED;
      });
    });
}

async function exportToFile(exporter: ExerciseExporter, out: string): Promise<number> {
  const partial = `${out}.partial`;
  let handle;
  try {
    handle = await open(partial, 'w');
  } catch (error) {
    throw new CliError(`cannot write ${out}: ${(error as Error).message}`, EXIT.RUNTIME_ERROR);
  }
  const stream = handle.createWriteStream();
  const done = finished(stream);
  done.catch(() => undefined); // awaited below; an early failure must not go unhandled
  try {
    const count = await exporter.export(stream);
    stream.end();
    await done;
    await rename(partial, out);
    return count;
  } catch (error) {
    stream.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a regular file');
    return info.size;
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.RUNTIME_ERROR);
  }
}

function progressBar(totalBytes: number): SingleBar {
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: 'importing [{bar}] {percentage}% | {lines} lines | {stored} stored | {rejected} rejected | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
  bar.start(Math.max(1, totalBytes), 0, { lines: 0, stored: 0, rejected: 0 });
  return bar;
}

function updateBar(bar: SingleBar, progress: ImportProgress): void {
  bar.update(progress.bytesRead, { lines: progress.lines, stored: progress.stored, rejected: progress.rejected });
}

function summaryLines(summary: ImportSummary): string[] {
  const lines = [
    `imported ${integer(summary.imported)}, replaced ${integer(summary.replaced)}, rejected ${integer(summary.rejected.length)} (${integer(summary.lines)} lines)`,
  ];
  for (const { line, reason } of summary.rejected.slice(0, REJECTED_SHOWN)) lines.push(`  line ${line}: ${reason}`);
  if (summary.rejected.length > REJECTED_SHOWN) {
    lines.push(`  ... and ${summary.rejected.length - REJECTED_SHOWN} more (--json lists every rejected line)`);
  }
  return lines;
}
