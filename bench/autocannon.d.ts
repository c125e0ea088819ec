// autocannon ships no types; this declares the part of its programmatic API the bench uses.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  function autocannon(
    options: autocannon.AutocannonOptions,
    callback: (error: Error | null, result: autocannon.AutocannonResult) => void,
  ): autocannon.AutocannonInstance;

  namespace autocannon {
    interface AutocannonRequest {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
    }

    interface AutocannonOptions {
      url: string;
      connections?: number;
      duration?: number;
      pipelining?: number;
      timeout?: number;
      headers?: Record<string, string>;
      requests?: AutocannonRequest[];
      excludeErrorStats?: boolean;
    }

    interface AutocannonResult {
      errors: number;
      timeouts: number;
      non2xx: number;
      duration: number;
      requests: { average: number; total: number };
    }

    interface AutocannonInstance extends EventEmitter {
      stop(): void;
    }
  }

  export = autocannon;
}
