import type { LengthBin, Summary } from '../artifacts/manifest';
/** Summary of a list of numbers for the manifest (its schema: shared/artifacts/manifest.ts). */
export type { Summary };

export function summarize(values: number[]): Summary {
  if (values.length === 0) return { count: 0, total: 0, min: 0, max: 0, mean: 0, p50: 0, p95: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((s, v) => s + v, 0);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]!;
  return {
    count: sorted.length,
    total,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: Math.round((total / sorted.length) * 10) / 10,
    p50: at(0.5),
    p95: at(0.95),
  };
}

export function tally(values: Iterable<string | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const k = v ?? '(none)';
    out[k] = (out[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export type { LengthBin } from '../artifacts/manifest';

/**
 * Ten bins of record lengths up to the limit, and one past it holding `over`: the records the filters dropped for
 * their length (they are in no set, so their count comes from the reasons).
 */
export function lengthBins(lengths: Iterable<number>, limit: number, over: number): LengthBin[] {
  const width = Math.max(1, Math.ceil(limit / 10));
  const bins: LengthBin[] = Array.from({ length: Math.ceil(limit / width) }, (_, i) => ({
    from: i * width,
    to: Math.min(limit, (i + 1) * width),
    count: 0,
  }));
  const past: LengthBin = { from: limit, to: limit * 2, count: over };
  for (const n of lengths) {
    if (n >= limit) past.count++;
    else bins[Math.min(bins.length - 1, Math.floor(n / width))]!.count++;
  }
  return [...bins, past];
}

export { droppedForLength } from '../artifacts/reasons';
