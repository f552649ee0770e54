import type { RunCounts } from '../runs/run';
import { estimateTokens } from '../catalog';
import { countOutcome, emptyCounts } from './counts';
import {
  decide,
  emptyDocument,
  fieldState,
  fieldsVerdict,
  filterPolicy,
  notObject,
  sentenceTooLong,
  textVerdict,
  type FieldState,
  type FilterPolicy,
  type Place,
  type RecordFacts,
  type Verdict,
} from './filter-policy';
import { headText, writePrefixJson } from './json-fields';
import { JsonBytesPath } from './json-bytes-path';
import type { RecordRules } from './rules';
import { bedrockRecord, fieldOf, mapRecord, splitSentences, type Mapped } from './template';
import { codePointLength, contentKey, prefix } from './text';
import { KeptMeta, type RejectLine } from '../artifacts/line-formats';
import { DUPLICATE, type RejectReason } from '../artifacts/reasons';

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
  /**
   * The record's bytes, when it was read without decoding it (then `raw` is empty and reject lines decode its head).
   */
  bytes?: Buffer;
  error?: { reason: RejectReason; detail: string; field?: string };
}

export interface ChunkSink {
  /** A kept record: its metadata line (JSON) and its Bedrock record line, as UTF-8 bytes. */
  kept(meta: string, record: Buffer): void;
  reject(line: string): void;
  /** A reject line as UTF-8 bytes (a view of a scratch buffer, to be copied); without it, `reject` takes a string. */
  rejectBytes?(line: Buffer): void;
  /** A reject line made of `head` (UTF-8 bytes, kept by the caller), the decimal `n` and the byte `last`. */
  rejectHead?(head: Buffer, n: number, last: number): void;
}

/** What a kept line is made of, asked of the facts the policy kept the record on (see `ChunkProcessor.settle`). */
export interface KeptFacts extends RecordFacts {
  /** Content key: hash of the normalised text; duplicates share it. */
  key(): string;
  /** The Bedrock record line, rendered. */
  record(): Buffer;
  category(): string | undefined;
  stratum(): string | undefined;
}

/** Where a text was kept before (see ChunkProcessor.firstOf), for the byte path, which notes the answers it gets. */
export interface KeptLookup {
  firstOf(k: string): Place | undefined;
  /**
   * An object that stays the same as long as every place `firstOf` has answered stays its answer: a place noted with
   * it may be used instead of asking again.
   */
  stamp(): object;
  /**
   * An object that stays the same, in this chunk and in the run's later chunks that this environment transforms under
   * the same policy, as long as every place in an earlier chunk that `firstOf` has answered stays its answer: a
   * verdict that does not name a place in this chunk, noted with it, holds there too (see JsonBytesPath.verdictOf).
   * Without a run's index of kept texts, `stamp()`.
   */
  runStamp(): object;
}

/**
 * Applies the template and the filter policy (filter-policy.ts) to each record of one chunk, in order, and writes
 * kept and rejected lines. A JSON record is first offered to the byte path (json-bytes-path.ts), which decides on its
 * bytes; a record it does not take, and every CSV, TSV and Parquet record, is decided on its parsed value here. Both
 * ask the same `decide`. Duplicates within the chunk are dropped here (the first, i.e. smallest position, stays);
 * split drops those across chunks by the same rule, so the result does not depend on the chunking.
 */
export class ChunkProcessor implements KeptLookup {
  readonly counts: RunCounts = emptyCounts();
  /** Duplicates dropped here whose text an earlier chunk kept (see KeptIndex): split would have found them. */
  duplicatesOfEarlierChunks = 0;
  private readonly seen = new Map<string, Place>();
  private readonly policy: FilterPolicy;
  private readonly parsed: ParsedFacts;
  private readonly bytePath?: JsonBytesPath;
  /** Records are documents cut into pieces (continued pre-training): a place names its piece too (Place.piece). */
  private readonly pieces: boolean;
  /** Texts kept by this environment's earlier chunks of the same run (see the constructor). */
  private readonly earlier?: KeptIndex;

  /**
   * `scope`: the run (and stage) and the index of this chunk. Texts kept by earlier chunks of the same scope that this
   * environment transformed are then dropped here as duplicates, instead of being written and dropped by split:
   * a chunk of a smaller index holds smaller positions, so its record is the one split would keep.
   * `utf8Checked`: the caller has checked that every record's bytes are UTF-8 before handing them in, so the byte path
   * does not check them again.
   */
  constructor(
    private readonly rules: RecordRules,
    private readonly sink: ChunkSink,
    private readonly scope?: { run: string; chunk: number; relativeLines?: boolean },
    opts: { utf8Checked?: boolean } = {},
  ) {
    this.policy = filterPolicy(rules, scope?.relativeLines === true);
    this.pieces = rules.config.prep.template.kind === 'text';
    this.earlier = scope && rules.config.prep.filters.dropDuplicates ? KeptIndex.for(scope.run) : undefined;
    this.policyKey = JSON.stringify(this.policy);
    this.parsed = new ParsedFacts(rules, (k) => this.firstOf(k));
    this.bytePath = JsonBytesPath.for(rules, this.policy, this, this, opts.utf8Checked === true);
  }

  /**
   * The byte path for a JSON record (see json-bytes-path.ts): true when it took the record, whose outcome is then the
   * one `handle` gives the parsed record; false, and the caller parses it and calls `handle`.
   */
  handleJsonBytes(bytes: Buffer, pos: number, line: number | undefined, row: number | undefined): boolean {
    return this.bytePath?.take(bytes, pos, line, row) ?? false;
  }

  handle(rec: SourceRecord): void {
    if (rec.error) return this.drop(rec, rec.error);
    const f = this.parsed.reset(rec.value);
    if (this.rules.config.prep.template.kind !== 'text') return this.settle(rec, decide(f, this.policy), f, 0);
    const wrong = fieldsVerdict(f, this.policy);
    if (wrong) return this.drop(rec, wrong);
    this.handleDocument(rec, f);
  }

  /** A record's outcome: dropped with the policy's verdict, or kept (no verdict) and its lines written. */
  settle(rec: SourceRecord, verdict: Verdict | undefined, f: KeptFacts, q: number): void {
    if (verdict) return this.drop(rec, verdict);
    const k = f.key();
    // A record counts as seen once it passed every filter.
    if (this.policy.dropDuplicates) {
      const piece = this.pieces ? q : undefined;
      this.seen.set(k, { line: rec.line, row: rec.row, piece, verdicts: undefined });
      this.earlier?.note(k, this.scope!.chunk, rec.line, rec.row, piece);
    }
    const record = f.record();
    const meta: KeptMeta = { k, p: rec.pos, q, n: f.chars(), t: f.tokensIn() + f.tokensOut(), b: record.length };
    if (rec.line !== undefined) meta.l = rec.line;
    if (rec.row !== undefined) meta.w = rec.row;
    const c = f.category();
    if (c !== undefined) meta.c = c;
    const stratifyBy = this.rules.config.split.stratifyBy;
    if (stratifyBy && stratifyBy !== this.rules.config.prep.categoryField) {
      const g = f.stratum();
      if (g !== undefined) meta.g = g;
    }
    this.sink.kept(JSON.stringify(meta), record);
    countOutcome(this.counts, 'kept');
  }

  /** Where the same text was kept before: in this chunk, or in an earlier chunk of the run. */
  firstOf(k: string): Place | undefined {
    return this.seen.get(k) ?? this.earlier?.before(k, this.scope!.chunk);
  }

  /**
   * A place once answered stays the answer: `seen` only grows (a text is noted once, when first kept), and an earlier
   * chunk's place changes only when the run's index forgets or replaces one (its generation).
   */
  stamp(): object {
    const g = this.earlier?.generation ?? 0;
    if (g !== this.stampGeneration) {
      this.stampGeneration = g;
      this.currentStamp = {};
    }
    return this.currentStamp;
  }

  private stampGeneration = 0;
  private currentStamp = {};

  runStamp(): object {
    return this.earlier?.runStamp(this.id, this.scope!.chunk, this.policyKey, this.seen.size === 0) ?? this.stamp();
  }

  /** The policy as a string: chunks of a run under equal policies may share a run stamp. */
  private readonly policyKey: string;
  /** This processor among the environment's (see KeptIndex.runStamp, which must not hold the processor itself). */
  private readonly id = ++processors;

  /**
   * Continued pre-training: a document becomes pieces under the record limits, cut between sentences. Each piece
   * counts as one record (input, kept, filtered), so the counts still add up; a sentence that alone exceeds the limit
   * is dropped with its own reason rather than cut.
   */
  private handleDocument(rec: SourceRecord, f: ParsedFacts): void {
    const m = f.mapped();
    const text = m.kind === 'text' ? m.text : '';
    const limit = this.rules.tokenLimit;
    const maxTokens = limit?.maxTokens ?? limit?.maxInputTokens;
    const maxChars = this.policy.maxChars;
    const fits = (s: string) =>
      codePointLength(s) <= maxChars && (maxTokens === undefined || estimateTokens(s) <= maxTokens);
    if (text.trim() === '') return this.drop(rec, emptyDocument());
    const { pieces, tooLong } = splitSentences(text, fits);
    for (const s of tooLong) this.drop({ ...rec, raw: s }, sentenceTooLong(codePointLength(s)));
    pieces.forEach((piece, q) => {
      f.withMapped({ kind: 'text', text: piece });
      this.settle(rec, textVerdict(f, this.policy), f, q);
    });
  }

  private drop(rec: SourceRecord, v: Verdict): void {
    const { reason, detail, field } = v;
    if (reason === DUPLICATE) return this.dropDuplicate(rec, v);
    if (rec.bytes && this.sink.rejectBytes && field === undefined)
      return this.dropBytes(rec, rec.bytes, reason, detail);
    const line: RejectLine = {
      reason,
      detail,
      record: prefix(rec.bytes ? headText(rec.bytes, PREFIX_CHARS) : rec.raw),
    };
    if (rec.line !== undefined) line.line = rec.line;
    if (rec.row !== undefined) line.row = rec.row;
    if (field !== undefined) line.field = field;
    this.sink.reject(JSON.stringify(line));
    countOutcome(this.counts, reason);
  }

  /**
   * A duplicate's reject line names the record it repeats instead of quoting its text: in a repetitive corpus most
   * records end here, and the first one's line or row finds the text. In a chunk numbered from its own start, a
   * duplicate of a record on a line (not a piece) is written in short (ChunkDuplicateLine), which split writes out.
   */
  private dropDuplicate(rec: SourceRecord, v: Verdict): void {
    const { line, row } = rec;
    if (v.earlierChunk) this.duplicatesOfEarlierChunks++;
    if (this.sink.rejectHead && (line === undefined) !== (row === undefined)) {
      // The head of the line is the same for every record the verdict is given to (see duplicateOf): made once as
      // bytes and kept with the verdict; then only the line or row number is written.
      if (line !== undefined && v.sameLine)
        this.sink.rejectHead((v.shortHead ??= shortDuplicateHead(v.sameLine)), line, 0x5d);
      else if (line !== undefined) this.sink.rejectHead((v.lineHead ??= duplicateHead(v, 'line')), line, 0x7d);
      else this.sink.rejectHead((v.rowHead ??= duplicateHead(v, 'row')), row!, 0x7d);
    } else {
      this.sink.reject(
        `{"reason":"${DUPLICATE}","detail":${JSON.stringify(v.detail)}${line !== undefined ? `,"line":${line}` : ''}${row !== undefined ? `,"row":${row}` : ''}}`,
      );
    }
    countOutcome(this.counts, DUPLICATE);
  }

  /**
   * A reject line built as bytes, the same as JSON.stringify gives for `drop`'s line, with the record's head escaped
   * straight from its bytes: most records of a repetitive corpus end here, and decoding them only to encode them
   * again is most of their cost.
   */
  private dropBytes(rec: SourceRecord, bytes: Buffer, reason: RejectReason, detail: string): void {
    const head = `{"reason":${JSON.stringify(reason)},"detail":${JSON.stringify(detail)},"record":"`;
    const tail = `"${rec.line !== undefined ? `,"line":${rec.line}` : ''}${rec.row !== undefined ? `,"row":${rec.row}` : ''}}`;
    const need = head.length * 3 + tail.length + Math.min(bytes.length, PREFIX_CHARS * 4) * 6 + 8;
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafe(Math.max(need, 64 * 1024));
    const out = this.scratch;
    let o = out.write(head, 0, 'utf8');
    o = writePrefixJson(bytes, PREFIX_CHARS, out, o);
    o += out.write(tail, o, 'latin1');
    this.sink.rejectBytes!(out.subarray(0, o));
    countOutcome(this.counts, reason);
  }

  private scratch = Buffer.allocUnsafe(64 * 1024);
}

/** The head of a duplicate's reject line, up to its line or row number, as bytes (see ChunkProcessor.dropDuplicate). */
const duplicateHead = (v: Verdict, at: 'line' | 'row') =>
  Buffer.from(`{"reason":"${DUPLICATE}","detail":${JSON.stringify(v.detail)},"${at}":`);

/** The head of a duplicate's short line (ChunkDuplicateLine), up to its own line: `[N,` or `[N,C,`. */
const shortDuplicateHead = (same: { line: number; chunk?: number }) =>
  Buffer.from(`[${same.line},${same.chunk !== undefined ? `${same.chunk},` : ''}`);

/**
 * The facts of a parsed record (JSON, CSV, TSV, Parquet), worked out as the policy asks for them: the template is
 * applied once the fields passed, the content key once the length did. One instance per processor, reset per record.
 */
class ParsedFacts implements KeptFacts {
  private value: unknown;
  private m?: Mapped;
  private n = -1;
  private k?: string;
  private tIn = -1;
  private tOut = -1;

  constructor(
    private readonly rules: RecordRules,
    private readonly lookup: (k: string) => Place | undefined,
  ) {}

  reset(value: unknown): this {
    this.value = value;
    this.m = undefined;
    return this.clear();
  }

  /** The same record with its text given: a piece of a document. */
  withMapped(m: Mapped): this {
    this.m = m;
    return this.clear();
  }

  private clear(): this {
    this.n = -1;
    this.k = undefined;
    this.tIn = -1;
    this.tOut = -1;
    return this;
  }

  private get rec(): Record<string, unknown> {
    return this.value as Record<string, unknown>;
  }

  mapped(): Mapped {
    return (this.m ??= mapRecord(this.rec, this.rules.config.prep.template));
  }

  notObject(): string | undefined {
    return notObject(this.value);
  }

  field(name: string): FieldState {
    return fieldState(fieldOf(this.rec, name));
  }

  blankPart(): 'prompt' | 'completion' | 'text' | undefined {
    const m = this.mapped();
    if (m.kind === 'text') return m.text.trim() === '' ? 'text' : undefined;
    return m.prompt.trim() === '' ? 'prompt' : m.completion.trim() === '' ? 'completion' : undefined;
  }

  reservedWord(words: readonly string[]): string | undefined {
    const m = this.mapped();
    return m.kind === 'pair' ? words.find((w) => m.prompt.includes(w)) : undefined;
  }

  chars(): number {
    if (this.n < 0) {
      const m = this.mapped();
      this.n = m.kind === 'pair' ? codePointLength(m.prompt) + codePointLength(m.completion) : codePointLength(m.text);
    }
    return this.n;
  }

  key(): string {
    if (this.k === undefined) {
      const m = this.mapped();
      this.k = this.keyOf(m.kind === 'pair' ? [m.prompt, m.completion] : [m.text]);
    }
    return this.k;
  }

  keptBefore(): Place | undefined {
    return this.lookup(this.key());
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

  tokensIn(): number {
    if (this.tIn < 0) {
      const m = this.mapped();
      this.tIn = estimateTokens(m.kind === 'pair' ? m.prompt : m.text);
    }
    return this.tIn;
  }

  tokensOut(): number {
    if (this.tOut < 0) {
      const m = this.mapped();
      this.tOut = m.kind === 'pair' ? estimateTokens(m.completion) : 0;
    }
    return this.tOut;
  }

  record(): Buffer {
    return Buffer.from(JSON.stringify(bedrockRecord(this.mapped(), this.rules.dataFormat)));
  }

  category(): string | undefined {
    return textField(fieldOf(this.rec, this.rules.config.prep.categoryField));
  }

  stratum(): string | undefined {
    const by = this.rules.config.split.stratifyBy;
    return by === undefined ? undefined : textField(fieldOf(this.rec, by));
  }
}

/** A category or stratum: a string, or a number written out; anything else is none. */
const textField = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

const KEY_CACHE_SIZE = 20_000;

/** The chunk processors made in this environment so far (see ChunkProcessor.id). */
let processors = 0;

/**
 * The content keys a run's chunks kept in this environment, with the chunk and the place of the record kept: module
 * state, like the byte path's memo (json-bytes-path.ts), for the run being transformed. Bounded; forgetting only
 * leaves more duplicates to split.
 */
class KeptIndex {
  private static current?: KeptIndex;
  static for(run: string): KeptIndex {
    if (KeptIndex.current?.run !== run) KeptIndex.current = new KeptIndex(run);
    return KeptIndex.current;
  }

  private readonly map = new Map<string, Place & { chunk: number }>();
  /** Counts the changes that can change an answer of `before`: forgetting, and replacing an entry. */
  generation = 0;
  /** The run stamp (see ChunkProcessor.runStamp): the processor it is for (its id), that one's chunk and policy. */
  private stamp: object | undefined;
  private stampGeneration = 0;
  private owner = 0;
  private ownerChunk = -1;
  private ownerPolicy = '';
  private constructor(private readonly run: string) {}

  /**
   * The run stamp for the processor `processor` (its id), which transforms `chunk` under `policy` (as a string) and has
   * kept no text yet when `fresh`. It passes from one processor to the next while each comes after the last in the
   * run's order, under the same policy, before keeping a text of its own: what the run's earlier chunks kept is then
   * earlier for it too, and no text it has kept differs from what a verdict noted before says. Any other change of
   * processor starts a new stamp, as does every change of the generation.
   */
  runStamp(processor: number, chunk: number, policy: string, fresh: boolean): object {
    if (processor !== this.owner) {
      if (!(fresh && chunk > this.ownerChunk && policy === this.ownerPolicy)) this.stamp = undefined;
      this.owner = processor;
      this.ownerChunk = chunk;
      this.ownerPolicy = policy;
    }
    if (this.stamp === undefined || this.stampGeneration !== this.generation) {
      this.stamp = {};
      this.stampGeneration = this.generation;
    }
    return this.stamp;
  }

  before(k: string, chunk: number): Place | undefined {
    const e = this.map.get(k);
    return e && e.chunk < chunk ? e : undefined;
  }

  note(k: string, chunk: number, line: number | undefined, row: number | undefined, piece: number | undefined) {
    const e = this.map.get(k);
    if (e && e.chunk <= chunk) return;
    if (e) this.generation++;
    if (this.map.size >= KEPT_INDEX_SIZE) {
      this.map.clear();
      this.generation++;
    }
    this.map.set(k, { chunk, line, row, piece, verdicts: undefined });
  }
}

/**
 * Whether what the byte reader found has KeptMeta's fields with their types (a few typeof checks, not the schema, on
 * the hot path); a line that does not goes through the schema, whose error says which field is wrong.
 */
function hasMetaFields(m: Record<string, string | number | undefined>): m is KeptMeta {
  const num = (v: unknown) => typeof v === 'number';
  const opt = (v: unknown, type: 'number' | 'string') => v === undefined || typeof v === type;
  return (
    typeof m.k === 'string' &&
    num(m.p) &&
    num(m.q) &&
    num(m.n) &&
    num(m.t) &&
    num(m.b) &&
    opt(m.l, 'number') &&
    opt(m.w, 'number') &&
    opt(m.c, 'string') &&
    opt(m.g, 'string')
  );
}

const KEPT_INDEX_SIZE = 250_000;
const PREFIX_CHARS = 120;

/**
 * Reads a line of meta.jsonl given as bytes: split's first pass, once per kept record, so the line is not checked
 * against the KeptMeta schema (test/unit/artifacts checks this reader's output against it over real writer output);
 * a line the byte reader does not take (escapes in a category) is parsed through the schema.
 */
export function parseMetaBytes(line: Buffer): KeptMeta {
  return readMeta(line) ?? KeptMeta.parse(JSON.parse(line.toString('utf8')));
}

/**
 * The metadata as ChunkProcessor writes it (`{"k":"…","p":1,…}`), read from its bytes: non-negative integers and
 * strings without escapes. Anything else (a category with a quote or a backslash) answers undefined, for JSON.parse.
 */
function readMeta(b: Buffer): KeptMeta | undefined {
  const meta: Record<string, string | number | undefined> = {};
  if (b[0] !== 0x7b) return undefined;
  let i = 1;
  for (;;) {
    if (b[i] !== 0x22) return undefined;
    const ke = b.indexOf(0x22, i + 1);
    if (ke < 0) return undefined;
    const key = b.toString('latin1', i + 1, ke);
    if (b[ke + 1] !== 0x3a) return undefined;
    i = ke + 2;
    const c = b[i]!;
    if (c === 0x22) {
      const e = b.indexOf(0x22, i + 1);
      if (e < 0) return undefined;
      const bs = b.indexOf(0x5c, i + 1);
      if (bs !== -1 && bs < e) return undefined;
      meta[key] = b.toString('utf8', i + 1, e);
      i = e + 1;
    } else {
      let v = 0;
      let j = i;
      for (; b[j]! >= 0x30 && b[j]! <= 0x39; j++) v = v * 10 + b[j]! - 0x30;
      if (j === i || j - i > 15) return undefined;
      meta[key] = v;
      i = j;
    }
    if (b[i] === 0x7d) return i === b.length - 1 && hasMetaFields(meta) ? meta : undefined;
    if (b[i] !== 0x2c) return undefined;
    i++;
  }
}
