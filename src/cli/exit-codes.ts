/** The CLI's exit codes; the README lists the same table. */
export const EXIT = {
  OK: 0,
  /** Something failed at run time: database unreachable, bad configuration, file unreadable. */
  RUNTIME_ERROR: 1,
  /** The command line is wrong: unknown command or option, missing or invalid value, invalid context or exercise. */
  USAGE_ERROR: 2,
  /** Nothing matched: `get` missed, `invalidate` removed nothing. */
  NOT_FOUND: 3,
  /** `import` finished but rejected some lines (the good lines were imported). */
  LINES_REJECTED: 4,
} as const;

/** An error the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.USAGE_ERROR);
  }
}

/** One line for stderr: Prisma's multi-line "Invalid `prisma.$queryRaw()` invocation: ... Message: `...`" becomes its message. */
export function oneLineReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /Message: `([^`]+)`/.exec(message);
  if (quoted) return quoted[1];
  return message.trim().replace(/\s*\n\s*/g, ' ');
}
