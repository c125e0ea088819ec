import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import type { QuarantinedEntry } from './quarantine.repository';
import { MAX_REASON_LENGTH, MAX_REPORTER_LENGTH } from './quarantine.service';

/** POST /exercise-cache/{key}/report */
export class ReportExerciseDto {
  @ApiProperty({ description: `What is wrong with the exercise (1..${MAX_REASON_LENGTH} characters)`, example: 'the answer "red" is wrong' })
  @IsString({ message: `reason must be text of 1..${MAX_REASON_LENGTH} characters` })
  @Length(1, MAX_REASON_LENGTH, { message: `reason must be text of 1..${MAX_REASON_LENGTH} characters` })
  reason!: string;

  @ApiPropertyOptional({ description: `Opaque id of the learner or client (1..${MAX_REPORTER_LENGTH} characters); one report per reporter per entry` })
  @IsOptional()
  @IsString({ message: `reporter must be text of 1..${MAX_REPORTER_LENGTH} characters` })
  @Length(1, MAX_REPORTER_LENGTH, { message: `reporter must be text of 1..${MAX_REPORTER_LENGTH} characters` })
  reporter?: string;
}

export class ReportRecordedResponse {
  @ApiProperty({ description: 'Cache key of the reported entry' }) key!: string;
  @ApiProperty({ description: 'Open reports on this entry, this one included' }) reports!: number;
  @ApiProperty({ description: 'Whether the entry is now in quarantine (never served)' }) quarantined!: boolean;
}

export class QuarantineReportResponse {
  @ApiProperty() reason!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) reporter!: string | null;
  @ApiProperty({ description: 'ISO 8601' }) reportedAt!: string;
}

export class QuarantinedEntryResponse {
  @ApiProperty() key!: string;
  @ApiProperty() exerciseType!: string;
  @ApiProperty() difficulty!: number;
  @ApiProperty({ type: [String] }) topics!: string[];
  @ApiProperty() variant!: number;
  @ApiProperty({ description: 'The quarantined exercise, for review', type: Object }) exercise!: Record<string, unknown>;
  @ApiProperty({ description: 'ISO 8601' }) createdAt!: string;
  @ApiProperty({ description: 'ISO 8601; cleanup removes the entry after this like any other' }) expiresAt!: string;
  @ApiProperty({ description: 'ISO 8601' }) quarantinedAt!: string;
  @ApiProperty({ type: [QuarantineReportResponse], description: 'The reports that put it in quarantine' }) reports!: QuarantineReportResponse[];

  static from(entry: QuarantinedEntry): QuarantinedEntryResponse {
    return {
      ...entry,
      createdAt: entry.createdAt.toISOString(),
      expiresAt: entry.expiresAt.toISOString(),
      quarantinedAt: entry.quarantinedAt.toISOString(),
      reports: entry.reports.map((r) => ({ ...r, reportedAt: r.reportedAt.toISOString() })),
    };
  }
}

export class ReleasedResponse {
  @ApiProperty() key!: string;
  @ApiProperty({ description: 'Always true: the entry is served again' }) released!: boolean;
}
