import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ExerciseSchemaRegistry } from './exercise-schema-registry';
import { ExerciseSchemaResponse } from './schemas.dto';

@ApiTags('quality')
@Controller('exercise-cache/schemas')
export class SchemasController {
  constructor(private readonly schemas: ExerciseSchemaRegistry) {}

  @Get()
  @ApiOkResponse({ type: [ExerciseSchemaResponse], description: 'The JSON Schema of each exercise type that has one; other types are stored unchecked' })
  list(): ExerciseSchemaResponse[] {
    return this.schemas.list().map(({ exerciseType, schema }) => ({ exerciseType, schema }));
  }
}
