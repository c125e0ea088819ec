import { E2e, startE2e } from './e2e-kit';

interface Operation {
  parameters?: { name: string; in: string; required: boolean; description?: string }[];
  requestBody?: { content: Record<string, { schema: { $ref: string } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, { description?: string }>; required?: string[] }> };
}

/** Every route of the cache (issue 4 item 3 and the variants issue), with the status codes it answers. */
const ROUTES: [string, string, string[]][] = [
  ['/exercise-cache', 'get', ['200', '400', '404']],
  ['/exercise-cache', 'post', ['201', '400']],
  ['/exercise-cache', 'delete', ['200', '400']],
  ['/exercise-cache/{key}', 'get', ['200', '400', '404']],
  ['/exercise-cache/{key}', 'delete', ['204', '400', '404']],
  ['/exercise-cache/near', 'get', ['200', '400']],
  ['/exercise-cache/stats', 'get', ['200']],
  ['/exercise-cache/stats/types', 'get', ['200']],
  ['/exercise-cache/popular', 'get', ['200', '400']],
  ['/exercise-cache/lru', 'get', ['200', '400']],
  ['/exercise-cache/metrics/daily', 'get', ['200', '400']],
];

describe('OpenAPI document (/docs)', () => {
  let e: E2e;
  let doc: OpenApi;

  beforeAll(async () => {
    e = await startE2e();
    doc = (await e.http().get('/docs-json').expect(200)).body as OpenApi;
  });
  afterAll(async () => {
    await e?.close();
  });

  it('serves the UI at /docs', async () => {
    const res = await e.http().get('/docs').expect(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.text).toContain('swagger');
  });

  // Swagger UI's scripts and styles are served through @fastify/static on Fastify.
  it.each(['swagger-ui-bundle.js', 'swagger-ui.css'])('serves the UI asset /docs/%s', async (asset) => {
    await e.http().get(`/docs/${asset}`).expect(200);
  });

  it.each(ROUTES)('describes %s %s with its status codes', (path, method, statuses) => {
    const operation = doc.paths[path]?.[method];
    expect(operation).toBeDefined();
    expect(Object.keys(operation.responses).sort()).toEqual(expect.arrayContaining(statuses));
  });

  it('documents the query parameters of the lookups, each with a description', () => {
    const names = (path: string) => (doc.paths[path].get.parameters ?? []).map((p) => p.name);
    expect(names('/exercise-cache')).toEqual(expect.arrayContaining(['type', 'difficulty', 'topics', 'variants', 'exclude']));
    expect(names('/exercise-cache/near')).toEqual(expect.arrayContaining(['type', 'difficulty', 'topics', 'minOverlap', 'limit']));
    expect(names('/exercise-cache/{key}')).toEqual(['key']);
    expect(names('/exercise-cache/popular')).toEqual(['limit']);
    expect(names('/exercise-cache/lru')).toEqual(['limit']);
    expect(names('/exercise-cache/metrics/daily')).toEqual(['days', 'namespace', 'generatorVersion']);
    for (const [path, method] of ROUTES) {
      for (const parameter of doc.paths[path][method].parameters ?? []) {
        expect({ path, parameter: parameter.name, description: parameter.description }).toEqual({ path, parameter: parameter.name, description: expect.any(String) });
      }
    }
  });

  it('documents the POST body and the response bodies', () => {
    const body = doc.paths['/exercise-cache'].post.requestBody!.content['application/json'].schema.$ref;
    const store = doc.components.schemas[body.split('/').pop()!];
    expect(Object.keys(store.properties!).sort()).toEqual(['context', 'exercise', 'generationCost', 'generationTimeMs', 'generatorVersion', 'staleWhileRevalidateSeconds', 'ttlSeconds', 'variants']);
    expect(store.required!.sort()).toEqual(['context', 'exercise']);
    expect(Object.keys(doc.components.schemas.ExerciseContextDto.properties!).sort()).toEqual(['difficulty', 'namespace', 'topics', 'type']);
    expect(Object.keys(doc.components.schemas.CachedExerciseResponse.properties!).sort()).toEqual(['createdAt', 'exercise', 'expiresAt', 'key', 'usageCount']);
    expect(Object.keys(doc.components.schemas.CacheMissResponse.properties!).sort()).toEqual(['key', 'message', 'statusCode']);
    expect(Object.keys(doc.components.schemas.StoredExerciseResponse.properties!).sort()).toEqual(['expiresAt', 'key']);
    expect(Object.keys(doc.components.schemas.NearMissResponse.properties!).sort()).toEqual(['exercise', 'key', 'overlap', 'topics']);
  });

  it('describes every field of the cache schemas', () => {
    const cacheSchemas = [
      'OverviewStatsResponse', 'TypeStatsResponse', 'EntrySummaryResponse', 'DailyMetricsResponse', 'CachedExerciseResponse',
      'CacheMissResponse', 'NearMissResponse', 'ExerciseContextDto', 'StoreExerciseDto', 'StoredExerciseResponse', 'InvalidatedResponse',
    ];
    for (const name of cacheSchemas) {
      const schema = doc.components.schemas[name];
      expect(schema).toBeDefined();
      for (const [field, property] of Object.entries(schema.properties ?? {})) {
        expect({ schema: name, field, description: property.description }).toEqual({ schema: name, field, description: expect.any(String) });
      }
    }
  });

  it('matches the statistics schemas to what the endpoints return', async () => {
    const fieldsOf = (name: string) => Object.keys(doc.components.schemas[name].properties!).sort();
    await e.http().post('/exercise-cache').send({ context: { type: 'docs', difficulty: 1, topics: ['a'] }, exercise: { q: 1 } }).expect(201);
    await e.http().get('/exercise-cache?type=docs&difficulty=1&topics=a').expect(200);
    expect(Object.keys((await e.http().get('/exercise-cache/stats')).body).sort()).toEqual(fieldsOf('OverviewStatsResponse'));
    expect(Object.keys((await e.http().get('/exercise-cache/stats/types')).body[0]).sort()).toEqual(fieldsOf('TypeStatsResponse'));
    expect(Object.keys((await e.http().get('/exercise-cache/popular')).body[0]).sort()).toEqual(fieldsOf('EntrySummaryResponse'));
    expect(Object.keys((await e.http().get('/exercise-cache/lru')).body[0]).sort()).toEqual(fieldsOf('EntrySummaryResponse'));
  });
});
