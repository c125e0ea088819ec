import { ApiProperty } from '@nestjs/swagger';

/** One entry of GET /exercise-cache/schemas. */
export class ExerciseSchemaResponse {
  @ApiProperty({ description: 'Exercise type the schema applies to', example: 'contextual_fill' })
  exerciseType!: string;

  @ApiProperty({ description: 'The JSON Schema (draft 2020-12) every stored exercise of this type must match', type: Object })
  schema!: Record<string, unknown> | boolean;
}
