import type { OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  hits: number;
  endsAt: number;
}

/**
 * Fixed-window counters: O(1) time and memory per client and request. @nestjs/throttler's default
 * storage keeps one expiry time per hit and filters that list on every request, so a busy
 * client's requests cost more the more it sent within the window (`npm run bench -- --without
 * throttler-storage` runs the service with it beside this one). The price of a fixed window is
 * the usual one: a client can spend its budget at the end of one window and again at the start of
 * the next. Windows that ended are swept once per window length (an unref'd timer, so it never
 * keeps the process alive). The app's close() stops that timer: unref'd, it would still live on
 * and keep this storage and every module of the closed app in memory (Nest calls the hook
 * because ThrottlerModule provides the storage, as it does its own ThrottlerStorageService).
 */
export class FixedWindowStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly windows = new Map<string, Window>();
  private sweeper?: NodeJS.Timeout;

  async increment(key: string, ttl: number, limit: number): Promise<{
    totalHits: number;
    timeToExpire: number;
    isBlocked: boolean;
    timeToBlockExpire: number;
  }> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { hits: 0, endsAt: now + ttl };
      this.windows.set(key, window);
      this.sweeper ??= setInterval(() => this.sweep(), ttl).unref();
    }
    window.hits += 1;
    const secondsLeft = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    const isBlocked = window.hits > limit;
    return { totalHits: window.hits, timeToExpire: secondsLeft, isBlocked, timeToBlockExpire: isBlocked ? secondsLeft : 0 };
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}
