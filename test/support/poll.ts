export interface PollOptions {
  /** What is awaited, named in the failure. */
  what?: string;
  timeoutMs?: number;
  everyMs?: number;
}

/**
 * Re-evaluates `read` until `done` accepts its value and returns that value: tests wait for a
 * state, never for a fixed time. Fails after `timeoutMs` with the last value; an error thrown by
 * `read` (a failed expect, for one) fails at once.
 */
export async function pollUntil<T>(read: () => Promise<T> | T, done: (value: T) => boolean, options: PollOptions = {}): Promise<T> {
  const { what = 'the condition', timeoutMs = 15000, everyMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    value = await read();
  }
  return value;
}
