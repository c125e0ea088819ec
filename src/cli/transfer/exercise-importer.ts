import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { BadRequestException, Injectable } from '@nestjs/common';
import { cacheKeyFor } from '../../cache/cache-key';
import { InvalidCacheRequestError } from '../../cache/context-rules';
import { ExerciseTransferRepository } from '../../cache/exercise-transfer.repository';
import { ExerciseStoreService } from '../../cache/exercise-store.service';
import { isStorageUnavailable } from '../../common/storage-unavailable';
import { AppConfig } from '../../config/app-config';
import { oneLineReason } from '../exit-codes';
import { ExerciseLineDto, parseExerciseLine } from './exercise-line.dto';

export interface RejectedLine {
  /** 1-based line number in the file. */
  line: number;
  reason: string;
}

export interface ImportSummary {
  /** Non-blank lines read. */
  lines: number;
  /** Entries that did not exist (or had expired) and were created. */
  imported: number;
  /** Live entries that were overwritten (by the file, or by an earlier line of it). */
  replaced: number;
  rejected: RejectedLine[];
}

export interface ImportProgress {
  bytesRead: number;
  lines: number;
  stored: number;
  rejected: number;
}

/** The import stopped part-way (database gone, ...); the lines before `line` were processed. */
export class ImportAbortedError extends Error {
  constructor(
    readonly line: number,
    readonly summary: ImportSummary,
    cause: unknown,
  ) {
    const reason = isStorageUnavailable(cause) ? `cache storage unavailable: ${oneLineReason(cause)}` : oneLineReason(cause);
    super(`import stopped at line ${line} (${summary.imported + summary.replaced} entries stored before it): ${reason}`, { cause });
  }
}

interface PendingLine {
  number: number;
  line: ExerciseLineDto;
  key: string;
}

const BATCH_SIZE = 200;
/** Lines stored at once; each is one upsert and one NOTIFY on the pool. */
const CONCURRENCY = 8;

/**
 * Pre-warms the cache from JSON Lines. Each line is validated like a POST /exercise-cache body and
 * stored under the key of its context and variant (default 1) through the cache service, so
 * importing a file twice replaces its entries instead of adding new ones. Lines are read as a
 * stream; a bad line is rejected with its number and reason, and the rest are still imported.
 */
@Injectable()
export class ExerciseImporter {
  constructor(
    private readonly exercises: ExerciseStoreService,
    private readonly repository: ExerciseTransferRepository,
    private readonly config: AppConfig,
  ) {}

  async import(input: Readable, onProgress?: (progress: ImportProgress) => void): Promise<ImportSummary> {
    const summary: ImportSummary = { lines: 0, imported: 0, replaced: 0, rejected: [] };
    const progress: ImportProgress = { bytesRead: 0, lines: 0, stored: 0, rejected: 0 };
    const report = () => {
      progress.lines = summary.lines;
      progress.stored = summary.imported + summary.replaced;
      progress.rejected = summary.rejected.length;
      onProgress?.(progress);
    };
    let pending: PendingLine[] = [];
    let number = 0;
    const reader = createInterface({ input, crlfDelay: Infinity });
    for await (const raw of reader) {
      number += 1;
      progress.bytesRead += Buffer.byteLength(raw, 'utf8') + 1;
      const text = (number === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
      if (text === '') continue;
      summary.lines += 1;
      const parsed = parseExerciseLine(text);
      if (!parsed.ok) {
        summary.rejected.push({ line: number, reason: parsed.reason });
      } else {
        pending.push({ number, line: parsed.line, key: cacheKeyFor(parsed.line.context, parsed.line.variant ?? 1) });
        if (pending.length >= BATCH_SIZE) {
          await this.store(pending, summary);
          pending = [];
        }
      }
      if (number % 50 === 0) report();
    }
    await this.store(pending, summary);
    report();
    return summary;
  }

  /**
   * Stores a batch; one query first tells which keys already hold a live entry. Lines run
   * CONCURRENCY at a time, in waves of distinct keys, so a later line for the same context still
   * replaces an earlier one, as in file order.
   */
  private async store(batch: PendingLine[], summary: ImportSummary): Promise<void> {
    if (batch.length === 0) return;
    let live: Set<string>;
    try {
      live = await this.repository.liveKeysAmong(batch.map((p) => p.key));
    } catch (error) {
      throw new ImportAbortedError(batch[0].number, summary, error);
    }
    const concurrency = Math.max(1, Math.min(CONCURRENCY, this.config.DATABASE_POOL_SIZE - 1));
    for (const wave of wavesOfDistinctKeys(batch)) {
      await forEachLimited(wave, concurrency, (pending) => this.storeLine(pending, live, summary));
      for (const { key } of wave) live.add(key); // a later line with the same context replaces this one
    }
    summary.rejected.sort((a, b) => a.line - b.line);
  }

  private async storeLine({ number, line, key }: PendingLine, live: Set<string>, summary: ImportSummary): Promise<void> {
    try {
      await this.exercises.setVariant(line.context, line.variant ?? 1, line.exercise, {
        ttlSeconds: line.ttlSeconds,
        generationCost: line.generationCost,
      });
    } catch (error) {
      if (error instanceof InvalidCacheRequestError || error instanceof BadRequestException) {
        summary.rejected.push({ line: number, reason: error instanceof InvalidCacheRequestError ? error.message : messageOf(error) });
        return;
      }
      throw new ImportAbortedError(number, summary, error);
    }
    if (live.has(key)) summary.replaced += 1;
    else summary.imported += 1;
  }
}

/** Splits a batch, in order, into runs in which no key appears twice. */
function wavesOfDistinctKeys(batch: PendingLine[]): PendingLine[][] {
  const waves: PendingLine[][] = [];
  let wave: PendingLine[] = [];
  let keys = new Set<string>();
  for (const pending of batch) {
    if (keys.has(pending.key)) {
      waves.push(wave);
      wave = [];
      keys = new Set();
    }
    wave.push(pending);
    keys.add(pending.key);
  }
  if (wave.length > 0) waves.push(wave);
  return waves;
}

/** Runs `task` over `items` with at most `limit` at once; the first failure stops new tasks and is thrown. */
async function forEachLimited<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

function messageOf(error: BadRequestException): string {
  const response = error.getResponse() as { message?: string | string[] };
  return Array.isArray(response.message) ? response.message.join('; ') : (response.message ?? error.message);
}
