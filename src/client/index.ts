// exercise-cache/client: a typed client for the REST API with no runtime dependencies (global
// fetch and WebCrypto: Node 20+, Deno, Bun, browsers). Nothing here may import node: modules or
// server code at run time; types come from the server's DTOs through `import type`.
export { createExerciseCacheClient } from './exercise-cache-client';
export type { ExerciseCacheClient } from './exercise-cache-client';
export { cacheKeyFor, normalizeTopics } from './client-key';
export {
  ExerciseCacheError,
  ExerciseCacheBadRequestError,
  ExerciseCacheUnauthorizedError,
  ExerciseCacheForbiddenError,
  ExerciseCacheLeaseConflictError,
  ExerciseCacheRateLimitedError,
  ExerciseCacheUnavailableError,
  ExerciseCacheTimeoutError,
} from './client-errors';
export type * from './client-types';
