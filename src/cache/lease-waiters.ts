/** One caller waiting for a key to change; `next` resolves on a change or after `ms`. */
export interface LeaseWaiter {
  /** True when woken by a change, false when `ms` ran out. A change since the last call counts at once. */
  next(ms: number): Promise<boolean>;
  dispose(): void;
}

/**
 * Callers waiting (in this process) for another caller's lease on a key to end in a store. Woken
 * by the invalidation bus, which reports every write here and on the other replicas; nothing
 * polls the database.
 */
export class LeaseWaiters {
  private readonly waiting = new Map<string, Set<WaiterState>>();
  private closed = false;

  /** Register before trying the lease, so a store that lands in between is not missed. */
  register(key: string): LeaseWaiter {
    const state: WaiterState = { changed: false };
    let set = this.waiting.get(key);
    if (!set) this.waiting.set(key, (set = new Set()));
    set.add(state);
    return {
      next: (ms) =>
        new Promise<boolean>((resolve) => {
          if (state.changed || this.closed) {
            state.changed = false;
            resolve(true);
            return;
          }
          const timer = setTimeout(() => {
            state.wake = undefined;
            resolve(false);
          }, Math.max(0, ms));
          state.wake = () => {
            clearTimeout(timer);
            state.wake = undefined;
            state.changed = false;
            resolve(true);
          };
        }),
      dispose: () => {
        set.delete(state);
        if (set.size === 0 && this.waiting.get(key) === set) this.waiting.delete(key);
      },
    };
  }

  wake(keys: readonly string[]): void {
    for (const key of keys) {
      for (const state of this.waiting.get(key) ?? []) {
        state.changed = true;
        state.wake?.();
      }
    }
  }

  /** Wakes every waiter now and lets none wait again (shutdown: in-flight waits must not hold it up). */
  close(): void {
    this.closed = true;
    for (const set of this.waiting.values()) for (const state of set) state.wake?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Callers waiting right now (for tests and metrics). */
  get size(): number {
    let size = 0;
    for (const set of this.waiting.values()) size += set.size;
    return size;
  }
}

interface WaiterState {
  changed: boolean;
  wake?: () => void;
}
