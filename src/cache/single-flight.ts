/**
 * In-process single-flight: concurrent calls for one key share one execution and its result or
 * error. The key is forgotten as soon as the execution settles.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, execute: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = execute().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}
