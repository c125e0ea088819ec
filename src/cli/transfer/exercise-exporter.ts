import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { MAX_TTL_SECONDS } from '../../cache/context-rules';
import { ExerciseTransferRepository, ExportedEntry } from '../../cache/exercise-transfer.repository';

const BATCH_SIZE = 500;

/** Writes every live entry as one JSON line, in the format ExerciseImporter reads. */
@Injectable()
export class ExerciseExporter {
  constructor(private readonly repository: ExerciseTransferRepository) {}

  /** Streams the entries to `output` (respecting back-pressure); returns how many were written. */
  async export(output: Writable): Promise<number> {
    let count = 0;
    for await (const batch of this.repository.exportLiveEntries(BATCH_SIZE)) {
      const chunk = batch.map((row) => `${JSON.stringify(toLine(row))}\n`).join('');
      count += batch.length;
      if (!output.write(chunk)) {
        // A failed stream (disk full, closed pipe) never drains: stop with its error instead.
        if (output.errored) throw output.errored;
        await once(output, 'drain');
      }
    }
    return count;
  }
}

/** Topics are stored normalised, so the line imports under the very same key. */
export function toLine(row: ExportedEntry): Record<string, unknown> {
  const line: Record<string, unknown> = {
    context: { type: row.exerciseType, difficulty: row.difficulty, topics: row.topics, ...(row.namespace !== null ? { namespace: row.namespace } : {}) },
    exercise: row.exercise,
    ttlSeconds: Math.min(MAX_TTL_SECONDS, Math.max(1, row.remainingSeconds)),
    generationCost: row.generationCost,
  };
  if (row.variant !== 1) line.variant = row.variant;
  return line;
}
