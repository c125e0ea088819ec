/**
 * Exercise types come from callers, so a label per type could grow without bound. The first
 * `limit` distinct values get their own label; the rest are reported as "other".
 */
export class LabelLimiter {
  private readonly seen = new Set<string>();

  constructor(private readonly limit = 100) {}

  label(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.limit) return 'other';
    this.seen.add(value);
    return value;
  }
}
