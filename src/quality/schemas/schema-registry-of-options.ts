import { ExerciseSchemaRegistry, type ExerciseSchemas } from './exercise-schema-registry';
import { InvalidExerciseSchemaError } from './exercise-schema.errors';

/** How the package and the Nest module take schemas: at most one of these. */
export interface ExerciseSchemaOptions {
  /** An already compiled registry. */
  schemas?: ExerciseSchemaRegistry;
  /** JSON Schemas (draft 2020-12) by exercise type, compiled once here. */
  exerciseSchemas?: ExerciseSchemas;
  /** A folder of `<type>.schema.json` files, read and compiled once here. */
  schemasDir?: string;
}

/**
 * The registry the options describe (undefined: no schemas). Throws InvalidExerciseSchemaError
 * naming the option, file or type when more than one is given or a schema cannot be compiled.
 */
export function schemaRegistryOf(options: ExerciseSchemaOptions): ExerciseSchemaRegistry | undefined {
  const given = (['schemas', 'exerciseSchemas', 'schemasDir'] as const).filter((name) => options[name] !== undefined);
  if (given.length > 1) throw new InvalidExerciseSchemaError(`options ${given.join(' and ')}`, 'give only one of schemas, exerciseSchemas and schemasDir');
  if (options.exerciseSchemas !== undefined) return ExerciseSchemaRegistry.fromSchemas(options.exerciseSchemas);
  if (options.schemasDir !== undefined) {
    if (typeof options.schemasDir !== 'string' || options.schemasDir === '') throw new InvalidExerciseSchemaError('option schemasDir', 'must be the path of a folder');
    return ExerciseSchemaRegistry.fromDirectory(options.schemasDir);
  }
  if (options.schemas !== undefined && !(options.schemas instanceof ExerciseSchemaRegistry)) {
    throw new InvalidExerciseSchemaError('option schemas', 'must be an ExerciseSchemaRegistry (or pass exerciseSchemas / schemasDir)');
  }
  return options.schemas;
}
