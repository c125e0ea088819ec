import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import { Client, Pool, type PoolConfig } from 'pg';
import { quoteIdent } from './database-schema';

type WasmExports = Record<string, unknown>;
type SchemaEngineModule = typeof import('@prisma/schema-engine-wasm') & {
  __wbg_set_wasm(exports: WasmExports): void;
};
// Node has WebAssembly; TypeScript only types it in the DOM library, which a server does not load.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: Record<string, unknown>): Promise<{ instance: { exports: WasmExports } }>;
};

let enginePromise: Promise<SchemaEngineModule> | undefined;

/**
 * Prisma's schema engine as WebAssembly: the same engine `prisma migrate deploy` runs, without
 * the native binary the CLI would download. The package's entry imports its .wasm the way
 * bundlers do, which Node cannot, so we instantiate the module by hand.
 */
function loadEngineModule(): Promise<SchemaEngineModule> {
  enginePromise ??= (async () => {
    const dir = path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
    const bindings = require(path.join(dir, 'schema_engine_bg.js')) as SchemaEngineModule;
    const bytes = await readFile(path.join(dir, 'schema_engine_bg.wasm'));
    // The engine arms timers it never clears; unref them so a finished migration lets the process
    // exit at once instead of when they fire.
    const imports: Record<string, unknown> = { ...bindings };
    for (const name of Object.keys(imports).filter((key) => key.startsWith('__wbg_setTimeout_'))) {
      const original = imports[name] as (...args: unknown[]) => { unref?: () => void } | undefined;
      imports[name] = (...args: unknown[]) => {
        const timer = original(...args);
        timer?.unref?.();
        return timer;
      };
    }
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': imports });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bindings;
  })();
  return enginePromise;
}

type ScriptAdapter = {
  client: { query(sql: string): Promise<unknown> };
  onError(error: unknown): never;
  executeScript(script: string): Promise<void>;
};

/**
 * @prisma/adapter-pg runs a script by splitting it on every ";", which breaks PL/pgSQL bodies and
 * comments. The native schema engine sends a migration as one simple-protocol query (one implicit
 * transaction), so we do the same.
 */
class WholeScriptPrismaPg extends PrismaPg {
  readonly opened: { dispose(): Promise<void> }[] = [];

  override async connect(): ReturnType<PrismaPg['connect']> {
    const adapter = await super.connect();
    this.opened.push(adapter);
    const scriptable = adapter as unknown as ScriptAdapter;
    scriptable.executeScript = async (script: string) => {
      try {
        await scriptable.client.query(script);
      } catch (error) {
        scriptable.onError(error);
      }
    };
    return adapter;
  }
}

/** A pg Client that sets search_path right after connecting, before the pool hands it out. */
function clientWithSearchPath(schema: string): typeof Client {
  class SearchPathClient extends Client {}
  // pg's Pool connects with a callback, other callers without one
  function connect(this: Client, callback?: (error: Error | null) => void): Promise<Client> | undefined {
    const connected = (Client.prototype.connect as () => Promise<unknown>)
      .call(this)
      .then(() => this.query(`SET search_path TO ${quoteIdent(schema)}`))
      .then(() => this);
    if (!callback) return connected;
    connected.then(() => callback(null), (error: Error) => callback(error));
    return undefined;
  }
  SearchPathClient.prototype.connect = connect as unknown as Client['connect'];
  return SearchPathClient;
}

export interface OpenSchemaEngine {
  engine: SchemaEngine;
  /** Frees the engine and closes its connections (a template database must have none left). */
  close(): Promise<void>;
}

/**
 * The engine on a pool of its own whose every connection has search_path set to `schema`: the
 * engine creates and reads _prisma_migrations unqualified, and the migration scripts name their
 * objects unqualified, so this is what puts both in the schema. A session setting needs a session:
 * migrations run on a direct connection, never through a transaction-mode pooler.
 */
export async function openSchemaEngine(
  connection: PoolConfig,
  datamodels: [string, string][],
  log: (line: string) => void = () => undefined,
  schema = 'public',
): Promise<OpenSchemaEngine> {
  const { SchemaEngine: Engine } = await loadEngineModule();
  const pool = new Pool({ ...connection, allowExitOnIdle: true, Client: clientWithSearchPath(schema) });
  pool.on('error', () => undefined); // an idle connection dropped: the engine's next query reports it
  const factory = new WholeScriptPrismaPg(pool, { schema });
  const engine = await Engine.new({ datamodels }, log, bindMigrationAwareSqlAdapterFactory(factory));
  return {
    engine,
    close: async () => {
      (engine as unknown as { free?: () => void }).free?.();
      await Promise.all(factory.opened.map((adapter) => adapter.dispose()));
      if (!pool.ended) await pool.end();
    },
  };
}
