/** Summary of a list of numbers for the manifest: count, min, max, mean, median and 95th percentile, total. */
export interface Summary {
  count: number;
  total: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) return { count: 0, total: 0, min: 0, max: 0, mean: 0, p50: 0, p95: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((s, v) => s + v, 0);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]!;
  return { count: sorted.length, total, min: sorted[0]!, max: sorted[sorted.length - 1]!, mean: Math.round((total / sorted.length) * 10) / 10, p50: at(0.5), p95: at(0.95) };
}

export function tally(values: Iterable<string | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const k = v ?? '(none)';
    out[k] = (out[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
