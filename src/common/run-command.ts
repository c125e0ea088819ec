/**
 * Runs a one-shot command (migrate, rollback): progress lines to stdout, and on failure exactly
 * one line on stderr and exit code 1, never a stack trace for an expected problem.
 */
export function runCommand(body: (log: (line: string) => void) => Promise<void>): void {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  body(log).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
