import type { AppConfig } from '../../config/app-config';
import { ExerciseSchemaRegistry } from './exercise-schema-registry';

const registries = new WeakMap<AppConfig, ExerciseSchemaRegistry>();

/**
 * The schemas of EXERCISE_SCHEMAS_DIR, compiled once per configuration: main.ts builds them
 * before anything else starts (a broken file stops startup with one line), and the cache module's
 * provider then receives the same compiled registry.
 */
export function schemaRegistryFor(config: AppConfig): ExerciseSchemaRegistry {
  let registry = registries.get(config);
  if (!registry) {
    registry = config.EXERCISE_SCHEMAS_DIR ? ExerciseSchemaRegistry.fromDirectory(config.EXERCISE_SCHEMAS_DIR) : ExerciseSchemaRegistry.empty();
    registries.set(config, registry);
  }
  return registry;
}
