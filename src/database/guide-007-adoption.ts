import type { ClientBase } from 'pg';
import { canonicalize, cacheKeyFor, userContextHashFor } from '../cache/cache-key';
import { MAX_DIFFICULTY, MAX_TOPICS, MAX_TOPIC_LENGTH, MAX_TYPE_LENGTH, MIN_DIFFICULTY, TYPE_PATTERN, isValidTopic } from '../cache/context-rules';
import { qualifiedName, quoteIdent, setLocalSearchPath } from './database-schema';
import { GUIDE_ROLLBACK_STATEMENTS } from './guide-rollback-statements';
import { createMigrationsTableSql, recordAppliedMigration } from './migration-records';

interface MigrationFile {
  name: string;
  sql: string;
}

/** One row of the guide's exercise_cache, with the guide's defaults applied to what it left NULL. */
interface GuideRow {
  id: string;
  cache_key: string;
  exercise_type: string;
  exercise_data: unknown;
  difficulty: number;
  topics: string[];
  usage_count: number;
  last_used_at: Date;
  created_at: Date;
  expires_at: Date;
  generation_cost: string;
  generation_time_ms: number | null;
}

interface AdoptedEntry {
  key: string;
  contextKey: string;
  userContextHash: string;
  kept: GuideRow;
  usageCount: number;
  lastUsedAt: Date;
  createdAt: Date;
  expiresAt: Date;
}

const MAX_USAGE = 2 ** 31 - 1;
const INSERT_BATCH = 1000;

/**
 * The guide's migration 007 is in place when `schema` has an exercise_cache without the
 * context_key column and our first migration is not recorded there.
 */
export async function isGuideMigration007(client: ClientBase, schema: string, initMigration: string): Promise<boolean> {
  const { rows } = await client.query<{ guide_table: boolean; records: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'context_key' AND NOT attisdropped)
              AS guide_table,
            to_regclass($2) IS NOT NULL AS records`,
    [qualifiedName(schema, 'exercise_cache'), qualifiedName(schema, '_prisma_migrations')],
  );
  if (!rows[0].guide_table) return false;
  if (!rows[0].records) return true;
  const recorded = await client.query(
    `SELECT 1 FROM ${qualifiedName(schema, '_prisma_migrations')} WHERE migration_name = $1 AND rolled_back_at IS NULL`,
    [initMigration],
  );
  return recorded.rowCount === 0;
}

/**
 * Replaces the guide's objects with ours in one transaction: its rows are read, its materialized
 * view, views, functions and table dropped (its own Rollback section), every migration applied,
 * every row stored again as an entry under the key this project computes from its type,
 * difficulty and topics, and the migrations recorded. Rows that map to one key become one entry:
 * usage summed, the latest last use, the earliest creation, the latest expiry, the exercise (and
 * its generation cost and time) of the most used of them. A row that cannot be adopted fails the
 * whole transaction, naming the row: the guide's table is then exactly as it was.
 */
export async function adoptGuideMigration007(
  client: ClientBase,
  schema: string,
  migrations: MigrationFile[],
  log: (line: string) => void,
): Promise<{ rows: number; entries: number }> {
  await client.query('BEGIN');
  try {
    await client.query(setLocalSearchPath(schema));
    const rows = await readGuideRows(client);
    const entries = mergeByKey(rows.map(toAdoptable));
    for (const statement of GUIDE_ROLLBACK_STATEMENTS) await client.query(statement);
    for (const migration of migrations) {
      await client.query(migration.sql);
      log(`applied migration ${migration.name}`);
    }
    for (let start = 0; start < entries.length; start += INSERT_BATCH) {
      await insertEntries(client, entries.slice(start, start + INSERT_BATCH));
    }
    await client.query(createMigrationsTableSql(schema));
    for (const migration of migrations) await recordAppliedMigration(client, schema, migration.name, migration.sql);
    await client.query('COMMIT');
    return { rows: rows.length, entries: entries.length };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`adopting the guide's migration 007 in schema ${quoteIdent(schema)} failed, nothing was changed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function readGuideRows(client: ClientBase): Promise<GuideRow[]> {
  const { rows } = await client.query<GuideRow>(
    `SELECT id::text, cache_key, exercise_type, exercise_data, difficulty, coalesce(topics, ARRAY[]::text[]) AS topics,
            coalesce(usage_count, 0) AS usage_count,
            coalesce(created_at, now()) AS created_at,
            coalesce(last_used_at, created_at, now()) AS last_used_at,
            coalesce(expires_at, coalesce(created_at, now()) + interval '24 hours') AS expires_at,
            coalesce(generation_cost, 0.003)::text AS generation_cost,
            generation_time_ms
     FROM exercise_cache ORDER BY created_at, id`,
  );
  return rows;
}

function toAdoptable(row: GuideRow): AdoptedEntry {
  const problem = adoptionProblem(row);
  if (problem) throw new Error(`row ${row.id} (cache_key ${row.cache_key}) cannot be adopted: ${problem}`);
  const context = canonicalize({ type: row.exercise_type, difficulty: row.difficulty, topics: row.topics });
  const key = cacheKeyFor(context);
  return {
    key,
    contextKey: key,
    userContextHash: userContextHashFor(context),
    kept: row,
    usageCount: row.usage_count,
    lastUsedAt: row.last_used_at,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function adoptionProblem(row: GuideRow): string | null {
  if (!TYPE_PATTERN.test(row.exercise_type)) return `exercise_type ${JSON.stringify(row.exercise_type)} is not 1..${MAX_TYPE_LENGTH} characters of a-z, 0-9, "_" and "-"`;
  if (!Number.isInteger(row.difficulty) || row.difficulty < MIN_DIFFICULTY || row.difficulty > MAX_DIFFICULTY) {
    return `difficulty ${row.difficulty} is not an integer from 1 to 5`;
  }
  if (row.topics.length > MAX_TOPICS) return `it has ${row.topics.length} topics, at most ${MAX_TOPICS} are kept`;
  const badTopic = row.topics.find((topic) => !isValidTopic(topic));
  if (badTopic !== undefined) return `topic ${JSON.stringify(badTopic)} is not 1..${MAX_TOPIC_LENGTH} characters without control characters`;
  if (row.exercise_data === null || typeof row.exercise_data !== 'object' || Array.isArray(row.exercise_data)) {
    return 'exercise_data is not a JSON object';
  }
  if (row.usage_count < 0) return `usage_count ${row.usage_count} is negative`;
  if (row.expires_at.getTime() <= row.created_at.getTime()) return 'expires_at is not after created_at';
  return null;
}

/** The most used row's exercise wins (then the most recently used, then the newest). */
function mergeByKey(entries: AdoptedEntry[]): AdoptedEntry[] {
  const byKey = new Map<string, AdoptedEntry>();
  for (const entry of entries) {
    const seen = byKey.get(entry.key);
    if (!seen) {
      byKey.set(entry.key, { ...entry });
      continue;
    }
    const a = seen.kept;
    const b = entry.kept;
    const bWins =
      b.usage_count !== a.usage_count
        ? b.usage_count > a.usage_count
        : b.last_used_at.getTime() !== a.last_used_at.getTime()
          ? b.last_used_at > a.last_used_at
          : b.created_at > a.created_at;
    if (bWins) seen.kept = b;
    seen.usageCount = Math.min(MAX_USAGE, seen.usageCount + entry.usageCount);
    if (entry.lastUsedAt > seen.lastUsedAt) seen.lastUsedAt = entry.lastUsedAt;
    if (entry.createdAt < seen.createdAt) seen.createdAt = entry.createdAt;
    if (entry.expiresAt > seen.expiresAt) seen.expiresAt = entry.expiresAt;
  }
  return [...byKey.values()];
}

async function insertEntries(client: ClientBase, entries: AdoptedEntry[]): Promise<void> {
  await client.query(
    `INSERT INTO exercise_cache (cache_key, context_key, variant, exercise_type, exercise_data, user_context_hash, difficulty,
       topics, usage_count, last_used_at, created_at, expires_at, generation_cost, generation_time_ms)
     SELECT e.key, e.key, 1, e.type, e.data, e.hash, e.difficulty,
            ARRAY(SELECT jsonb_array_elements_text(e.topics)), e.usage, e.last_used, e.created, e.expires, e.cost, e.time_ms
     FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::int[], $6::jsonb[], $7::int[], $8::timestamptz[],
                 $9::timestamptz[], $10::timestamptz[], $11::numeric[], $12::int[])
       AS e(key, type, data, hash, difficulty, topics, usage, last_used, created, expires, cost, time_ms)`,
    [
      entries.map((e) => e.key),
      entries.map((e) => e.kept.exercise_type),
      entries.map((e) => JSON.stringify(e.kept.exercise_data)),
      entries.map((e) => e.userContextHash),
      entries.map((e) => e.kept.difficulty),
      entries.map((e) => JSON.stringify(canonicalize({ type: e.kept.exercise_type, difficulty: e.kept.difficulty, topics: e.kept.topics }).topics)),
      entries.map((e) => e.usageCount),
      entries.map((e) => e.lastUsedAt),
      entries.map((e) => e.createdAt),
      entries.map((e) => e.expiresAt),
      entries.map((e) => e.kept.generation_cost),
      entries.map((e) => e.kept.generation_time_ms),
    ],
  );
}
