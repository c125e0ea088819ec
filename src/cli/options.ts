import { InvalidArgumentError } from 'commander';
import type { ExerciseContext } from '../cache/cache-key';
import { UsageError } from './exit-codes';

/** Commander parser: a plain decimal integer within [min, max]. */
export function integerIn(min: number, max: number) {
  return (value: string): number => {
    if (!/^-?\d{1,15}$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}.`);
    }
    return Number(value);
  };
}

/** Commander parser: a finite number within [min, max]. */
export function numberIn(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`must be a number from ${min} to ${max}.`);
    return n;
  };
}

/** "a, b,c" -> ["a", "b", "c"]: the API's comma-separated form of topics. */
export function topicList(value: string): string[] {
  return value
    .split(',')
    .map((topic) => topic.trim())
    .filter((topic) => topic !== '');
}

/** The flags that name an exercise context: --type, --difficulty, --topics, --namespace. */
export interface ContextFlags {
  type?: string;
  difficulty?: number;
  topics?: string[];
  namespace?: string;
}

/** The context named by --type, --difficulty, --topics (and --namespace); the service validates its values. */
export function contextOf(options: ContextFlags, command: string): ExerciseContext {
  if (options.type === undefined || options.difficulty === undefined) {
    throw new UsageError(`${command} needs --type and --difficulty (and usually --topics)`);
  }
  const context: ExerciseContext = { type: options.type, difficulty: options.difficulty, topics: options.topics ?? [] };
  if (options.namespace !== undefined) context.namespace = options.namespace;
  return context;
}

export const hasContextFlags = (options: ContextFlags): boolean =>
  options.type !== undefined || options.difficulty !== undefined || options.topics !== undefined;
