import type { Run } from '../runs/run';
import { droppedForLength, lengthBins as binLengths } from '../prep/stats';

/** One point of a loss curve, from the job's metrics files. */
export interface LossPoint {
  step: number;
  epoch?: number;
  loss: number;
}

/** A histogram bin over prompt + completion length (characters): [from, to). */
export interface LengthBin {
  from: number;
  to: number;
  count: number;
}

export interface EvaluationSample {
  prompt: string;
  reference?: string;
  completion: string;
}

/** What the manifest tells the report, read tolerantly (the manifest is the data-prep steps' to define). */
export interface ManifestView {
  byCategory?: Record<string, number>;
  /** Per split, when the manifest gives categories per split. */
  byCategoryAndSplit?: Record<string, Record<string, number>>;
  lengths?: { bins: LengthBin[]; limit?: number; unit: string; p50?: number; p95?: number; max?: number };
  counts?: Partial<Run['counts']> & { byReason?: Record<string, number> };
  /** Length statistics of the training set when the manifest has no histogram. */
  lengthStats?: { p50?: number; p95?: number; max?: number };
}

/** Everything the run report shows; building the report from these is pure. */
export interface ReportInputs {
  run: Run;
  manifest?: ManifestView;
  training?: LossPoint[];
  validation?: LossPoint[];
  evaluationSamples?: EvaluationSample[];
  /** When the report was made (shown on the page; injected for reproducible output). */
  generatedAt: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);
const first = (o: Obj, ...keys: string[]): unknown => keys.map((k) => o[k]).find((v) => v !== undefined);

/** A record of numbers, or of per-split records of numbers; anything else is ignored. */
function numberRecord(v: unknown): Record<string, number> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) {
    const n = num(x);
    if (n !== undefined) out[k] = n;
  }
  return Object.keys(out).length ? out : undefined;
}

function categories(m: Obj): Pick<ManifestView, 'byCategory' | 'byCategoryAndSplit'> {
  const counts = isObj(m.counts) ? m.counts : {};
  const raw = first(m, 'byCategory', 'categories', 'categoryCounts') ?? first(counts, 'byCategory', 'categories');
  if (!isObj(raw)) return {};
  const flat = numberRecord(raw);
  if (flat && Object.keys(flat).length === Object.keys(raw).length) return { byCategory: flat };
  // { category: { train: n, validation: n } } or { train: { category: n } }
  const nested = Object.entries(raw).filter(([, v]) => isObj(v)) as Array<[string, Obj]>;
  const splits = ['eligible', 'train', 'training', 'validation', 'test'];
  const bySplitFirst = nested.every(([k]) => splits.includes(k));
  // The split step's manifest: { eligible: {cat: n}, train: {...}, validation: {...}, test: {...} }
  const eligible = bySplitFirst && isObj(raw.eligible) ? numberRecord(raw.eligible) : undefined;
  const table: Record<string, Record<string, number>> = {};
  for (const [outer, inner] of nested) {
    if (outer === 'eligible') continue;
    for (const [k, v] of Object.entries(inner)) {
      const n = num(v);
      if (n === undefined) continue;
      const [cat, split] = bySplitFirst ? [k, outer] : [outer, k];
      (table[cat] ??= {})[split] = n;
    }
  }
  const byCategory = Object.fromEntries(Object.entries(table).map(([c, s]) => [c, Object.entries(s).filter(([k]) => k !== 'total').reduce((a, [, n]) => a + n, 0)]));
  if (eligible) return { byCategory: eligible, byCategoryAndSplit: Object.keys(table).length ? table : undefined };
  return Object.keys(table).length ? { byCategory, byCategoryAndSplit: table } : {};
}

function lengthBins(l: Obj): LengthBin[] {
  const hist = first(l, 'histogram', 'bins', 'buckets');
  if (Array.isArray(hist)) {
    return hist.flatMap((b): LengthBin[] => {
      if (Array.isArray(b) && b.length >= 3) {
        const [from, to, count] = b.map(num);
        return from !== undefined && to !== undefined && count !== undefined ? [{ from, to, count }] : [];
      }
      if (!isObj(b)) return [];
      const from = num(first(b, 'from', 'min', 'lo', 'start', 'lower'));
      const count = num(first(b, 'count', 'n', 'records', 'value'));
      const to = num(first(b, 'to', 'max', 'hi', 'end', 'upper'));
      return from !== undefined && count !== undefined ? [{ from, to: to ?? from, count }] : [];
    });
  }
  // { edges: [0, 100, 200], counts: [5, 7] }
  const edges = first(l, 'edges', 'boundaries');
  const counts = first(l, 'counts');
  if (Array.isArray(edges) && Array.isArray(counts)) {
    return counts.flatMap((c, i) => {
      const from = num(edges[i]);
      const to = num(edges[i + 1]);
      const count = num(c);
      return from !== undefined && to !== undefined && count !== undefined ? [{ from, to, count }] : [];
    });
  }
  return [];
}

/** Reads what the report needs from a manifest of any shape seen so far; unknown parts are left out, never fatal. */
export function readManifest(value: unknown): ManifestView {
  if (!isObj(value)) return {};
  const view: ManifestView = { ...categories(value) };
  const l = first(value, 'lengthHistogram', 'lengths', 'length', 'lengthStats', 'recordLengths');
  if (isObj(l)) {
    const bins = lengthBins(l).sort((a, b) => a.from - b.from);
    if (bins.length) {
      view.lengths = {
        bins,
        limit: num(first(l, 'limit', 'maxChars', 'max_chars', 'maxLength')),
        unit: typeof l.unit === 'string' ? l.unit : 'characters',
        p50: num(first(l, 'p50', 'median')),
        p95: num(l.p95),
        max: num(first(l, 'max', 'longest')),
      };
    }
    else if (!view.lengths) {
      // The split step's statistics without a histogram: { train: { chars: { p50, p95, max, ... } }, ... }
      const train = isObj(l.train) && isObj(l.train.chars) ? l.train.chars : undefined;
      if (train) view.lengthStats = { p50: num(train.p50), p95: num(train.p95), max: num(train.max) };
    }
  } else if (Array.isArray(l)) {
    const bins = lengthBins({ histogram: l });
    if (bins.length) view.lengths = { bins, unit: 'characters' };
  }
  if (isObj(value.counts)) {
    const c = value.counts;
    view.counts = {
      input: num(c.input),
      kept: num(c.kept),
      filtered: num(c.filtered),
      rejected: num(c.rejected),
      train: num(first(c, 'train', 'training')),
      validation: num(c.validation),
      test: num(c.test),
      byReason: numberRecord(first(c, 'byReason', 'reasons')),
    };
  }
  return view;
}

/**
 * A Bedrock metrics CSV (`step_wise_training_metrics.csv`, `validation_metrics.csv`): documented columns are
 * step_number, epoch_number, training_loss | validation_loss, perplexity; variants drop perplexity or start steps at
 * 1. The loss column is the one named `*loss`, else the second-to-last (as AWS's samples read it).
 */
export function parseMetricsCsv(text: string): LossPoint[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) return [];
  const header = lines[0]!.split(',').map((h) => h.trim().toLowerCase());
  const stepCol = header.findIndex((h) => h.startsWith('step'));
  const epochCol = header.findIndex((h) => h.startsWith('epoch'));
  let lossCol = header.findIndex((h) => h.endsWith('loss'));
  if (lossCol < 0) lossCol = Math.max(0, header.length - 2);
  const points: LossPoint[] = [];
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',');
    const loss = num(cells[lossCol]?.trim());
    if (loss === undefined) return;
    points.push({ step: (stepCol >= 0 ? num(cells[stepCol]?.trim()) : undefined) ?? i, epoch: epochCol >= 0 ? num(cells[epochCol]?.trim()) : undefined, loss });
  });
  return points;
}

/** Evaluation samples from JSON Lines or a JSON array, with the field names seen in evaluation outputs. */
export function readEvaluationSamples(text: string): EvaluationSample[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let rows: unknown[];
  try {
    const parsed: unknown = JSON.parse(trimmed);
    rows = Array.isArray(parsed) ? parsed : isObj(parsed) && Array.isArray(parsed.samples) ? parsed.samples : [parsed];
  } catch {
    rows = trimmed.split(/\r?\n/).flatMap((l) => {
      try {
        return [JSON.parse(l) as unknown];
      } catch {
        return [];
      }
    });
  }
  return rows.flatMap((r): EvaluationSample[] => {
    if (!isObj(r)) return [];
    const prompt = first(r, 'prompt', 'input', 'instruction');
    const completion = first(r, 'completion', 'output', 'generated', 'modelOutput', 'response');
    const reference = first(r, 'reference', 'expected', 'referenceResponse', 'target');
    if (typeof prompt !== 'string' || typeof completion !== 'string') return [];
    return [{ prompt, completion, reference: typeof reference === 'string' ? reference : undefined }];
  });
}

/**
 * A length histogram from the prepared records (`{prompt, completion}` lines), in Unicode code points as the filter
 * counts them (see `lengthBins`), for a manifest that carries none.
 */
export function lengthHistogram(lines: Iterable<string>, limit: number, over: number): LengthBin[] {
  const lengths: number[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isObj(rec)) continue;
    const text = typeof rec.prompt === 'string' || typeof rec.completion === 'string' ? `${rec.prompt ?? ''}${rec.completion ?? ''}` : typeof rec.input === 'string' ? rec.input : '';
    lengths.push([...text].length);
  }
  return binLengths(lengths, limit, over);
}

export { droppedForLength };
