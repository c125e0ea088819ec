/** How a command prints: JSON for scripts (--json), aligned text for people. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** A text table; columns whose `numeric` flag is set are right-aligned. */
export function table(headers: string[], rows: string[][], numeric: boolean[]): string[] {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

export const integer = (value: unknown): string => Number(value ?? 0).toLocaleString('en-US');

export const percent = (value: unknown): string => `${Number(value ?? 0).toFixed(1)} %`;

export function money(value: unknown): string {
  const v = Number(value ?? 0);
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 1 ? 2 : 4;
  return `$${v.toLocaleString('en-US', { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits })}`;
}
