import type { RunCounts } from '../runs/run';
import { isRejected, REJECT_REASONS, type RejectReason } from '../artifacts/reasons';

export const emptyCounts = (): RunCounts => ({ input: 0, kept: 0, filtered: 0, rejected: 0, byReason: {} });

export function countOutcome(c: RunCounts, outcome: 'kept' | RejectReason): void {
  c.input++;
  if (outcome === 'kept') {
    c.kept++;
    return;
  }
  if (isRejected(outcome)) c.rejected++;
  else c.filtered++;
  c.byReason[outcome] = (c.byReason[outcome] ?? 0) + 1;
}

/**
 * The counts by reason in the order of REJECT_REASONS, whatever order they were counted in: the manifest is then the
 * same byte for byte however the records were spread over chunks and environments (the order of first occurrence is
 * not).
 */
export function inReasonOrder(byReason: RunCounts['byReason']): RunCounts['byReason'] {
  const out: RunCounts['byReason'] = {};
  for (const reason of REJECT_REASONS) if (byReason[reason] !== undefined) out[reason] = byReason[reason];
  return out;
}

export function addCounts(a: RunCounts, b: RunCounts): RunCounts {
  const byReason: RunCounts['byReason'] = {};
  for (const reason of REJECT_REASONS) {
    const m = a.byReason[reason];
    const n = b.byReason[reason];
    if (m !== undefined || n !== undefined) byReason[reason] = (m ?? 0) + (n ?? 0);
  }
  return {
    input: a.input + b.input,
    kept: a.kept + b.kept,
    filtered: a.filtered + b.filtered,
    rejected: a.rejected + b.rejected,
    byReason,
  };
}

/** input = kept + filtered + rejected, and the reasons add up to filtered + rejected: nothing is lost. */
export function countsBalance(c: RunCounts): boolean {
  const reasons = Object.values(c.byReason).reduce((s, n) => s + n, 0);
  return c.input === c.kept + c.filtered + c.rejected && reasons === c.filtered + c.rejected;
}
