import { randomUUID } from 'node:crypto';
import { Client, ClientConfig, Pool } from 'pg';
import { CacheLogger, ScopedLogger, consoleCacheLogger, scopedLogger } from './cache-logger';
import { L1Cache } from './l1-cache';

const CHANNEL = 'exercise_cache_invalidate';
/** NOTIFY payloads are limited to 8000 bytes; 100 keys of 64 characters stay well below. */
const KEYS_PER_MESSAGE = 100;

interface Message {
  /** Sending instance: it has already updated its own L1. */
  from: string;
  keys?: string[];
  all?: boolean;
}

/**
 * Cross-replica L1 invalidation over PostgreSQL LISTEN/NOTIFY: whatever one replica writes,
 * invalidates, clears or evicts is dropped from every other replica's L1. The listener needs a
 * direct session (DATABASE_DIRECT_URL when DATABASE_URL is PgBouncer in transaction mode) and
 * reconnects by itself after an outage; after a reconnect it clears the local L1, since
 * notifications sent meanwhile were missed. Notifications go through the pool; the listener is a
 * session of its own, opened with `session` (connection settings, no pool options).
 */
export class InvalidationBus {
  readonly instanceId = randomUUID();
  private readonly logger: ScopedLogger;
  private listener?: Client;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;
  /** The LISTEN session being opened (first time or reconnecting): never two at once. */
  private connecting?: Promise<void>;
  /** Told of every key written or removed, here or on another replica (lease waiters listen). */
  private readonly keyListeners: ((keys: readonly string[]) => void)[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly l1: L1Cache,
    private readonly session: ClientConfig,
    logger: CacheLogger = consoleCacheLogger,
  ) {
    this.logger = scopedLogger(logger, InvalidationBus.name);
  }

  /** Opens the LISTEN session when there is an L1 to keep coherent (otherwise on first need). */
  async start(): Promise<void> {
    if (this.l1.enabled) await this.ensureListening();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.connecting?.catch(() => undefined);
    await this.listener?.end().catch(() => undefined);
  }

  /** True while the LISTEN session is up (after a reconnect, L1 starts empty). */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /**
   * Opens the LISTEN session unless it is open or reconnecting. Without L1 it is opened on first
   * need: a lease waiter needs it to be woken (the CLI, which has no L1 and no waiters, never opens it).
   */
  async ensureListening(): Promise<void> {
    if (this.listener || this.reconnectTimer || this.stopped) return;
    this.connecting ??= this.listen()
      .catch(() => this.scheduleReconnect())
      .finally(() => (this.connecting = undefined));
    await this.connecting;
  }

  /** Calls `listener` with the keys of every change published here or received from another replica. */
  onKeysChanged(listener: (keys: readonly string[]) => void): void {
    this.keyListeners.push(listener);
  }

  /** Tells every other replica to drop these keys (or everything) from its L1. */
  async publish(change: { keys: string[] } | { all: true }): Promise<void> {
    if ('keys' in change) this.keysChanged(change.keys);
    const messages: Message[] =
      'all' in change
        ? [{ from: this.instanceId, all: true }]
        : chunk(change.keys, KEYS_PER_MESSAGE).map((keys) => ({ from: this.instanceId, keys }));
    for (const message of messages) {
      await this.pool.query({ name: 'exercise_cache_notify', text: 'SELECT pg_notify($1, $2)', values: [CHANNEL, JSON.stringify(message)] });
    }
  }

  private async listen(): Promise<void> {
    const client = new Client({ ...this.session, application_name: 'exercise-cache-listener' });
    client.on('error', (error) => {
      this.logger.warn(`invalidation listener lost its connection: ${error.message}`);
      this.scheduleReconnect();
    });
    client.on('end', () => this.scheduleReconnect());
    client.on('notification', (notification) => this.receive(notification.payload));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.listener?.removeAllListeners();
    // The old connection may still report an error while it closes: heard, not thrown.
    this.listener?.on('error', () => undefined);
    this.listener?.end().catch(() => undefined);
    this.listener = undefined;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connecting = this.listen()
        .then(
          () => {
            this.l1.clear();
            this.logger.log('invalidation listener reconnected; local L1 cleared');
          },
          () => this.scheduleReconnect(),
        )
        .finally(() => (this.connecting = undefined));
    }, 500);
    this.reconnectTimer.unref();
  }

  private receive(payload: string | undefined): void {
    if (!payload) return;
    let message: Message;
    try {
      message = JSON.parse(payload) as Message;
    } catch {
      return;
    }
    if (message.from === this.instanceId) return;
    if (message.all) this.l1.clear();
    else if (message.keys) {
      this.l1.delete(message.keys);
      this.keysChanged(message.keys);
    }
  }

  private keysChanged(keys: readonly string[]): void {
    for (const listener of this.keyListeners) listener(keys);
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
