import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { adminQuery, withDatabase } from '../test/support/admin-query';
import type { BenchDatabase } from './bench-database';

/**
 * `--compare-with DIR`: another built checkout of this repository, measured in the same run.
 * Only its dist/ (main.js, its migration CLI) and prisma/ are used, never its bench.
 */
export interface PreviousBuild {
  /** The checkout as given. */
  dir: string;
  /** `git rev-parse --short HEAD` of the checkout, or 'unknown'. */
  commit: string;
  /** The copy of its dist/ the servers run from. */
  dist: string;
  remove(): Promise<void>;
}

const REQUIRED = ['dist/main.js', 'dist/database/migrate.cli.js', 'prisma', 'node_modules'];

/** What is missing in `dir` for it to serve as the other build; empty when it can. */
export function missingInBuild(dir: string): string[] {
  return REQUIRED.filter((file) => !existsSync(path.join(dir, file)));
}

/**
 * Copies the other build's dist/, prisma/ and package.json under `parent` with a symlink to its
 * node_modules (modules resolve from the real folder), so a rebuild of `dir` during the run
 * cannot change the code measured, as the current build's snapshot does for dist/.
 */
export async function snapshotPreviousBuild(dir: string, parent: string): Promise<PreviousBuild> {
  const root = path.join(parent, `.previous-${process.pid}`);
  await rm(root, { recursive: true, force: true });
  for (const item of ['dist', 'prisma', 'package.json']) {
    if (existsSync(path.join(dir, item))) await cp(path.join(dir, item), path.join(root, item), { recursive: true });
  }
  await symlink(path.join(dir, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || commit;
  } catch {
    // not a git checkout: the report names it by its folder
  }
  return { dir, commit, dist: path.join(root, 'dist'), remove: () => rm(root, { recursive: true, force: true }) };
}

/** The other build's own database beside the bench database, on the same server. */
export interface PreviousDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * Creates <bench>_previous and migrates it with the other build's OWN migration CLI: its service
 * then meets the schema it was written for (its usage flush would fail on newer tables).
 */
export async function openPreviousDatabase(bench: BenchDatabase, build: PreviousBuild, log: (line: string) => void): Promise<PreviousDatabase> {
  const name = `${bench.name}_previous`;
  const drop = () => adminQuery(bench.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((error: Error) => log(`could not drop ${name}: ${error.message}`));
  await drop();
  await adminQuery(bench.adminUrl, `CREATE DATABASE ${name}`);
  const url = withDatabase(bench.adminUrl, name);
  try {
    await promisify(execFile)(process.execPath, [path.join(build.dist, 'database', 'migrate.cli.js')], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: url, LOG_LEVEL: 'warn', LOG_PRETTY: 'false' },
      timeout: 120_000,
    });
  } catch (error) {
    await drop();
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`migrating ${name} with ${build.dir}'s migrate.cli.js failed: ${(error as Error).message} ${stdout ?? ''} ${stderr ?? ''}`.trim());
  }
  return { url, name, drop: async () => void (await drop()) };
}

const BATCH = 5_000;

/**
 * Copies every table's rows from one database to the other over the columns both tables have
 * (generated columns excluded), 5,000 rows per INSERT, then moves the target's sequences past the
 * copied ids and runs VACUUM ANALYZE. Rows travel as JSON and enter through the target's own row
 * type, so a column whose type differs between the builds is converted by PostgreSQL. The
 * migration history stays each database's own. Returns the rows copied per table.
 */
export async function copyRows(fromUrl: string, toUrl: string): Promise<Record<string, number>> {
  const from = new Client({ connectionString: fromUrl });
  const to = new Client({ connectionString: toUrl });
  await from.connect();
  await to.connect();
  try {
    const columns = async (client: Client) => {
      const { rows } = await client.query<{ table_name: string; columns: string[] }>(
        `SELECT c.table_name, array_agg(c.column_name::text ORDER BY c.ordinal_position) AS columns
         FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.is_generated = 'NEVER'
           AND c.table_name <> '_prisma_migrations'
         GROUP BY c.table_name`,
      );
      return new Map(rows.map((r) => [r.table_name, r.columns]));
    };
    const [source, target] = [await columns(from), await columns(to)];
    const copied: Record<string, number> = {};
    for (const [table, sourceColumns] of source) {
      const targetColumns = new Set(target.get(table) ?? []);
      const common = sourceColumns.filter((c) => targetColumns.has(c));
      if (common.length === 0) continue;
      const list = common.map((c) => `"${c}"`).join(', ');
      await from.query('BEGIN');
      await from.query(`DECLARE rows_out NO SCROLL CURSOR FOR SELECT row_to_json(r)::text AS row FROM (SELECT ${list} FROM public."${table}") r`);
      let count = 0;
      for (;;) {
        const { rows } = await from.query<{ row: string }>(`FETCH ${BATCH} FROM rows_out`);
        if (rows.length === 0) break;
        await to.query(`INSERT INTO public."${table}" (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM json_populate_recordset(NULL::public."${table}", $1::json)`, [
          `[${rows.map((r) => r.row).join(',')}]`,
        ]);
        count += rows.length;
      }
      await from.query('COMMIT');
      if (count > 0) copied[table] = count;
    }
    // Sequences (serial and identity columns) continue after the copied ids, as in the source.
    await to.query(`
      DO $$ DECLARE s record; BEGIN
        FOR s IN SELECT c.table_name, c.column_name, pg_get_serial_sequence(format('public.%I', c.table_name), c.column_name) AS seq
                 FROM information_schema.columns c WHERE c.table_schema = 'public' LOOP
          IF s.seq IS NOT NULL THEN
            EXECUTE format('SELECT setval(%L, coalesce((SELECT max(%I) FROM public.%I), 0) + 1, false)', s.seq, s.column_name, s.table_name);
          END IF;
        END LOOP;
      END $$`);
    await to.query('VACUUM ANALYZE');
    return copied;
  } finally {
    await from.query('ROLLBACK').catch(() => undefined);
    await from.end();
    await to.end();
  }
}
