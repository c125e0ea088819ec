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

/**
 * Resolves true when `promise` settles within `ms`, false when it is still pending then (the
 * promise itself is left running). A rejection is passed on.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Awaits `promise`, failing with an error that names `what` when it takes longer than `ms`. */
export async function finishWithin(promise: Promise<unknown>, ms: number, what: string): Promise<void> {
  if (!(await settlesWithin(promise, ms))) throw new Error(`${what} did not finish within ${ms} ms`);
}
