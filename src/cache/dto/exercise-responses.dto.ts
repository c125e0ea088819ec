import { ApiProperty } from '@nestjs/swagger';
import type { CachedEntry } from '../cache-entry';

export class CachedExerciseResponse {
  @ApiProperty({ description: 'Cache key of this entry (SHA-256, 64 hex characters)' })
  key!: string;

  @ApiProperty({ description: 'The cached exercise, as stored', type: Object })
  exercise!: Record<string, unknown>;

  @ApiProperty({ description: 'When the entry was stored (ISO 8601)' })
  createdAt!: string;

  @ApiProperty({ description: 'When the entry expires (ISO 8601); after this it is served only as stale (X-Cache: STALE) within a stale window' })
  expiresAt!: string;

  @ApiProperty({ description: 'How often the entry was served before this answer; uses served by other replicas show once written (a few seconds)' })
  usageCount!: number;

  /** Entries are immutable snapshots, so an L1 hit reuses the response built for it last time. */
  static from(entry: CachedEntry): CachedExerciseResponse {
    let response = responses.get(entry);
    if (!response) {
      response = {
        key: entry.key,
        exercise: entry.exercise,
        createdAt: entry.createdAt.toISOString(),
        expiresAt: entry.expiresAt.toISOString(),
        usageCount: entry.usageCount,
      };
      responses.set(entry, response);
    }
    return response;
  }
}

const responses = new WeakMap<CachedEntry, CachedExerciseResponse>();

export class CacheMissResponse {
  @ApiProperty({ description: 'Always 404', example: 404 })
  statusCode!: number;

  @ApiProperty({ description: 'What was not found' })
  message!: string;

  @ApiProperty({ description: 'The key that was looked up; POST an exercise for the context to fill it' })
  key!: string;
}

export class StoredExerciseResponse {
  @ApiProperty({ description: 'Cache key the exercise was stored under' })
  key!: string;

  @ApiProperty({ description: 'When the entry expires (ISO 8601)' })
  expiresAt!: string;
}

export class NearMissResponse {
  @ApiProperty({ description: 'Cache key of the similar entry' })
  key!: string;

  @ApiProperty({ description: 'The cached exercise', type: Object })
  exercise!: Record<string, unknown>;

  @ApiProperty({ description: 'Topics of the similar entry (normalised)', type: [String] })
  topics!: string[];

  @ApiProperty({ description: 'How many of the requested topics it shares' })
  overlap!: number;

  static from(entry: CachedEntry & { overlap: number }): NearMissResponse {
    return { key: entry.key, exercise: entry.exercise, topics: entry.topics, overlap: entry.overlap };
  }
}

export class InvalidatedResponse {
  @ApiProperty({ description: 'How many entries (variants) were removed' })
  removed!: number;
}
