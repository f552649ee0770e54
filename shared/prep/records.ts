import type { RunCounts } from '../runs/run';
import { estimateTokens, tokenLimitViolation } from '../catalog';
import { countOutcome, emptyCounts } from './counts';
import type { RecordRules } from './rules';
import { applyTemplate, bedrockRecord, splitSentences, type Mapped } from './template';
import { codePointLength, contentKey, prefix } from './text';

/** A record as read from the input, before the template: parsed, or with the reason it could not be. */
export interface SourceRecord {
  /** Byte offset (text formats) or row index (Parquet) in the whole input: the record's identity for ordering. */
  pos: number;
  /** Where to point a person at: a line (JSON Lines, CSV) or a row (JSON array element, Parquet row). */
  line?: number;
  row?: number;
  value?: unknown;
  /** The record's text, for reject lines. */
  raw: string;
  error?: { reason: string; detail: string; field?: string };
}

/**
 * One line of a chunk's kept.jsonl: the metadata split needs, then the Bedrock record `r` last, so split can take the
 * record's JSON text without parsing it again.
 */
export interface KeptMeta {
  /** Content key: hash of the normalised text; duplicates share it. */
  k: string;
  p: number;
  /** Piece index within a document (continued pre-training); 0 otherwise. */
  q: number;
  l?: number;
  w?: number;
  /** Category (prep.categoryField) and stratum (split.stratifyBy), when present. */
  c?: string;
  g?: string;
  /** Code points of prompt plus completion (or input), and estimated tokens. */
  n: number;
  t: number;
}

export interface RejectLine {
  source: string;
  line?: number;
  row?: number;
  reason: string;
  detail: string;
  field?: string;
  record: string;
}

export interface ChunkSink {
  kept(line: string): void;
  reject(line: string): void;
}

/**
 * Applies the template and the filters to each record of one chunk, in order, and writes kept and rejected lines.
 * Duplicates within the chunk are dropped here (the first, i.e. smallest position, stays); split drops those
 * across chunks by the same rule, so the result does not depend on the chunking.
 */
export class ChunkProcessor {
  readonly counts: RunCounts = emptyCounts();
  private readonly seen = new Map<string, { line?: number; row?: number }>();
  private readonly maxChars: number;

  constructor(
    private readonly rules: RecordRules,
    private readonly source: string,
    private readonly sink: ChunkSink,
  ) {
    this.maxChars = rules.config.prep.filters.maxChars;
  }

  handle(rec: SourceRecord): void {
    if (rec.error) return this.drop(rec, rec.error.reason, rec.error.detail, rec.error.field);
    const mapped = applyTemplate(rec.value, this.rules.config.prep.template);
    if ('reason' in mapped) return this.drop(rec, mapped.reason, mapped.detail, mapped.field);
    const obj = rec.value as Record<string, unknown>;
    if (mapped.kind === 'text') return this.handleDocument(rec, mapped.text, obj);
    this.handleMapped(rec, mapped, obj, 0);
  }

  private handleMapped(rec: SourceRecord, m: Mapped, obj: Record<string, unknown>, q: number): void {
    const { filters } = this.rules.config.prep;
    const parts = m.kind === 'pair' ? [m.prompt, m.completion] : [m.text];
    if (filters.dropEmpty && parts.some((p) => p.trim() === '')) {
      const which = m.kind === 'pair' ? (m.prompt.trim() === '' ? 'prompt' : 'completion') : 'text';
      return this.drop(rec, 'filtered:empty', `the ${which} is empty`);
    }
    const chars = parts.reduce((s, p) => s + codePointLength(p), 0);
    if (chars > this.maxChars) {
      return this.drop(rec, 'filtered:too_long_chars', `${chars} characters (Unicode code points) > the limit of ${this.maxChars}`);
    }
    // Duplicates are looked up before the token estimate: most dropped records in a repetitive corpus are duplicates,
    // and a record only counts as seen once it passed every filter, so the outcome is the same in either order.
    const k = this.keyOf(parts);
    const first = filters.dropDuplicates ? this.seen.get(k) : undefined;
    if (first) return this.drop(rec, 'filtered:duplicate', `same text as ${where(first)}`);
    const tIn = estimateTokens(parts[0]!);
    const tOut = parts.length > 1 ? estimateTokens(parts[1]!) : 0;
    const limit = this.rules.tokenLimit;
    if (limit) {
      const violation = tokenLimitViolation(limit as Parameters<typeof tokenLimitViolation>[0], tIn, tOut);
      if (violation) return this.drop(rec, 'filtered:too_many_tokens', `estimated: ${violation}`);
    }
    if (filters.dropDuplicates) this.seen.set(k, { line: rec.line, row: rec.row });
    const meta: KeptMeta = { k, p: rec.pos, q, n: chars, t: tIn + tOut };
    if (rec.line !== undefined) meta.l = rec.line;
    if (rec.row !== undefined) meta.w = rec.row;
    const { categoryField } = this.rules.config.prep;
    const c = obj[categoryField];
    if (typeof c === 'string' || typeof c === 'number') meta.c = String(c);
    const stratifyBy = this.rules.config.split.stratifyBy;
    if (stratifyBy && stratifyBy !== categoryField) {
      const g = obj[stratifyBy];
      if (typeof g === 'string' || typeof g === 'number') meta.g = String(g);
    }
    const head = JSON.stringify(meta);
    this.sink.kept(`${head.slice(0, -1)},"r":${JSON.stringify(bedrockRecord(m, this.rules.dataFormat))}}`);
    countOutcome(this.counts, 'kept');
  }

  /**
   * Continued pre-training: a document becomes pieces under the record limits, cut between sentences. Each piece
   * counts as one record (input, kept, filtered), so the counts still add up; a sentence that alone exceeds the limit
   * is dropped with its own reason rather than cut.
   */
  private handleDocument(rec: SourceRecord, text: string, obj: Record<string, unknown>): void {
    const limit = this.rules.tokenLimit;
    const maxTokens = limit?.maxTokens ?? limit?.maxInputTokens;
    const fits = (s: string) => codePointLength(s) <= this.maxChars && (maxTokens === undefined || estimateTokens(s) <= maxTokens);
    if (text.trim() === '') return this.drop(rec, 'filtered:empty', 'the text is empty');
    const { pieces, tooLong } = splitSentences(text, fits);
    for (const s of tooLong) {
      this.drop({ ...rec, raw: s }, 'filtered:sentence_too_long', `one sentence of ${codePointLength(s)} characters exceeds the record limit; it is dropped, not cut`);
    }
    pieces.forEach((piece, q) => this.handleMapped(rec, { kind: 'text', text: piece }, obj, q));
  }

  /**
   * The content key, through a cache keyed by the exact text: NFKC and SHA-256 are the costliest steps per record, and
   * exact repeats (re-exports, concatenated dumps) are the commonest duplicates. Bounded, so memory stays flat.
   */
  private readonly keyCache = new Map<string, string>();
  private keyOf(parts: string[]): string {
    const exact = parts.join('\u0000');
    let k = this.keyCache.get(exact);
    if (k === undefined) {
      k = contentKey(parts);
      if (this.keyCache.size >= KEY_CACHE_SIZE) this.keyCache.clear();
      this.keyCache.set(exact, k);
    }
    return k;
  }

  private drop(rec: SourceRecord, reason: string, detail: string, field?: string): void {
    const line: RejectLine = { source: this.source, reason, detail, record: prefix(rec.raw) };
    if (rec.line !== undefined) line.line = rec.line;
    if (rec.row !== undefined) line.row = rec.row;
    if (field !== undefined) line.field = field;
    this.sink.reject(JSON.stringify(line));
    countOutcome(this.counts, reason);
  }
}

const KEY_CACHE_SIZE = 20_000;

const where = (at: { line?: number; row?: number }) => (at.line !== undefined ? `line ${at.line}` : `row ${at.row}`);

/** Reads the metadata of a kept line without parsing its record. */
export function parseKeptLine(line: string): { meta: KeptMeta; record: string } {
  const at = line.indexOf(',"r":');
  return { meta: JSON.parse(line.slice(0, at) + '}') as KeptMeta, record: line.slice(at + 5, -1) };
}
