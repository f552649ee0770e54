import type { RunCounts } from '../runs/run';
import { estimateTokens, tokenLimitViolation } from '../catalog';
import { countOutcome, emptyCounts } from './counts';
import type { RecordRules } from './rules';
import { applyTemplate, bedrockRecord, splitSentences, type Mapped } from './template';
import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { checkString, fieldText, FlatObjectReader, headText, writePrefixJson, type FieldRange } from './json-fields';
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
  /** The record's bytes, when it was read without decoding it (then `raw` is empty and reject lines decode its head). */
  bytes?: Buffer;
  error?: { reason: RejectReason; detail: string; field?: string };
}

export interface ChunkSink {
  /** A kept record: its metadata line (JSON) and its Bedrock record line, as UTF-8 bytes. */
  kept(meta: string, record: Buffer): void;
  reject(line: string): void;
  /** A reject line as UTF-8 bytes (a view of a scratch buffer, to be copied); without it, `reject` takes a string. */
  rejectBytes?(line: Buffer): void;
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

  /**
   * The byte path's reader and the slots of the fields it reads in `reader.fields`, and the template's own strings'
   * lengths; undefined: no byte path.
   */
  private readonly byteFields?: {
    reader: FlatObjectReader;
    slots: { a: number; b: number; input: number; c: number; g: number };
    prefixChars: number;
  };

  /**
   * `scope`: the run (and stage) and the index of this chunk. Texts kept by earlier chunks of the same scope that this
   * environment transformed are then dropped here as duplicates, instead of being written and dropped by split:
   * a chunk of a smaller index holds smaller positions, so its record is the one split would keep.
   */
  constructor(
    private readonly rules: RecordRules,
    private readonly sink: ChunkSink,
    private readonly scope?: { run: string; chunk: number; relativeLines?: boolean },
  ) {
    this.maxChars = rules.config.prep.filters.maxChars;
    this.earlier = scope && rules.config.prep.filters.dropDuplicates ? KeptIndex.for(scope.run) : undefined;
    this.memo = ByteMemo.for(JSON.stringify([rules.config.prep.template, rules.dataFormat]));
    const { template: t, categoryField } = rules.config.prep;
    const stratifyBy = rules.config.split.stratifyBy;
    // The template's own strings are concatenated to the record's: a lone surrogate in them could pair across the
    // join and change the count, so such a template takes the general way.
    const plain = (s: string) => !/[\uD800-\uDFFF]/.test(s);
    if ((t.kind === 'dolly' && plain(t.inputPrefix) && plain(t.knowledgeSeparator)) || t.kind === 'fields') {
      const names =
        t.kind === 'dolly'
          ? { a: t.instructionField, b: t.outputField, input: t.inputField, c: categoryField, g: stratifyBy }
          : { a: t.promptField, b: t.completionField, c: categoryField, g: stratifyBy };
      const wanted = [...new Set([names.a, names.b, names.c, ...(names.input !== undefined ? [names.input] : []), ...(names.g !== undefined ? [names.g] : [])])];
      const prefixChars = t.kind === 'dolly' ? codePointLength(t.inputPrefix) + codePointLength(t.knowledgeSeparator) : 0;
      // The text fields are checked only when their bytes are new (see handleJsonBytes); category fields always.
      const lazy = new Set([names.a, names.b, ...(names.input !== undefined ? [names.input] : [])].filter((n) => n !== names.c && n !== names.g));
      const slot = (n: string | undefined) => (n === undefined ? -1 : wanted.indexOf(n));
      this.byteFields = {
        reader: new FlatObjectReader(wanted, lazy),
        slots: { a: slot(names.a), b: slot(names.b), input: slot(names.input), c: slot(names.c), g: slot(names.g) },
        prefixChars,
      };
    }
  }

  /**
   * The byte path for a JSON record: a flat object of strings is checked and measured on its bytes, and its text is
   * decoded only if it passes the length and duplicate filters. The outcome is the one `handle` gives the parsed
   * record; a record this path does not take (false) goes through `handle`.
   */
  handleJsonBytes(bytes: Buffer, pos: number, line: number | undefined, row: number | undefined): boolean {
    const bf = this.byteFields;
    if (!bf || !isUtf8(bytes) || !bf.reader.read(bytes)) return false;
    const { slots } = bf;
    const f = bf.reader.fields;
    const a = f[slots.a];
    const b = f[slots.b];
    if (!a || !b) return false; // missing fields: rejected the general way
    const input = slots.input < 0 ? undefined : f[slots.input];
    // Exact repeats are known by their bytes: the same bytes are the same text, so the same lengths, content key,
    // token estimate and Bedrock record.
    const exact = exactBytesKey(bytes, a, input, b);
    let known = this.memo.get(exact);
    if (known && !samePlaces(known.places, a, input, b)) known = undefined; // same bytes, other fields: not cached
    if (!known) {
      const ca = checkString(bytes, a.start);
      const cb = checkString(bytes, b.start);
      const ci = input && checkString(bytes, input.start);
      if (!ca || !cb || (input && !ci)) return false; // not valid JSON: rejected the general way
      const withInput = ci !== undefined && !ci.blank;
      const fresh = { chars: ca.chars + cb.chars + (withInput ? bf.prefixChars + ci.chars : 0), withInput, blank: (!withInput && ca.blank) || cb.blank, places: placesOf(a, input, b) };
      if (!this.memo.get(exact)) this.memo.set(exact, fresh);
      known = fresh;
    }
    const { filters } = this.rules.config.prep;
    // A prompt with an input holds it, so it is not blank; an empty record is dropped the general way.
    if (filters.dropEmpty && known.blank) return false;
    const rec: SourceRecord = { pos, line, row, raw: '', bytes };
    if (known.chars > this.maxChars) {
      this.drop(rec, 'filtered:too_long_chars', `${known.chars} characters (Unicode code points) > the limit of ${this.maxChars}`);
      return true;
    }
    const first = filters.dropDuplicates && known.k !== undefined ? this.firstOf(known.k) : undefined;
    if (first) {
      this.drop(rec, DUPLICATE, this.sameAs(first));
      return true;
    }
    const obj: Record<string, unknown> = {};
    const c = f[slots.c];
    if (c) obj[this.rules.config.prep.categoryField] = fieldText(bytes, c);
    const g = slots.g < 0 ? undefined : f[slots.g];
    if (g) obj[this.rules.config.split.stratifyBy!] = fieldText(bytes, g);
    if (known.record !== undefined) {
      // Written before (in this chunk or an earlier one of this environment): only the metadata is new.
      this.keep(rec, known as Required<ByteKnown>, obj, 0);
      return true;
    }
    const t = this.rules.config.prep.template;
    const aText = fieldText(bytes, a);
    const bText = fieldText(bytes, b);
    const m: Mapped =
      t.kind === 'dolly'
        ? { kind: 'pair', prompt: known.withInput ? t.inputPrefix + aText + t.knowledgeSeparator + fieldText(bytes, input) : aText, completion: bText }
        : { kind: 'pair', prompt: aText, completion: bText };
    this.handleMapped(rec, m, obj, 0, known);
    return true;
  }

  /** What the byte path knows of a record's text by the exact bytes of its fields. */
  private readonly memo: ByteMemo;

  /** Texts kept by this environment's earlier chunks of the same run (see the constructor). */
  private readonly earlier?: KeptIndex;

  /** Where the same text was kept before: in this chunk, or in an earlier chunk of the run. */
  private firstOf(k: string): { line?: number; row?: number; chunk?: number } | undefined {
    return this.seen.get(k) ?? this.earlier?.before(k, this.scope!.chunk);
  }

  /**
   * A duplicate's detail. In a chunk whose lines count from its own start (relativeLines), a record kept by an earlier
   * chunk is named by its line in that chunk and the chunk (`line 3 of chunk 0`): split turns that into the line in the
   * file, as it does every line number of such a chunk's rejects (see shiftLineNumbers), so no file split writes has it.
   */
  private sameAs(first: { line?: number; row?: number; chunk?: number }): string {
    if (this.scope?.relativeLines && first.chunk !== undefined && first.line !== undefined) return `same text as line ${first.line} of chunk ${first.chunk}`;
    return `same text as ${where(first)}`;
  }

  handle(rec: SourceRecord): void {
    if (rec.error) return this.drop(rec, rec.error.reason, rec.error.detail, rec.error.field);
    const mapped = applyTemplate(rec.value, this.rules.config.prep.template);
    if ('reason' in mapped) return this.drop(rec, mapped.reason, mapped.detail, mapped.field);
    const obj = rec.value as Record<string, unknown>;
    if (mapped.kind === 'text') return this.handleDocument(rec, mapped.text, obj);
    this.handleMapped(rec, mapped, obj, 0);
  }

  /**
   * The filters, then the kept line. With `known` (the byte path), what is derived from the text is noted there for
   * the next record with the same field bytes; the byte path keeps that cache, so the text need not be held.
   */
  private handleMapped(rec: SourceRecord, m: Mapped, obj: Record<string, unknown>, q: number, known?: ByteKnown): void {
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
    const k = known ? contentKey(parts) : this.keyOf(parts);
    if (known) known.k = k;
    const first = filters.dropDuplicates ? this.firstOf(k) : undefined;
    if (first) return this.drop(rec, DUPLICATE, this.sameAs(first));
    const tIn = estimateTokens(parts[0]!);
    const tOut = parts.length > 1 ? estimateTokens(parts[1]!) : 0;
    const record = Buffer.from(JSON.stringify(bedrockRecord(m, this.rules.dataFormat)));
    const done = { chars, k, tIn, tOut, record };
    if (known) this.memo.note(known, done);
    this.keep(rec, done, obj, q);
  }

  /** The token filter, then the kept line: its metadata and the record, already rendered. */
  private keep(rec: SourceRecord, d: { chars: number; k: string; tIn: number; tOut: number; record: Buffer }, obj: Record<string, unknown>, q: number): void {
    const limit = this.rules.tokenLimit;
    if (limit) {
      const violation = tokenLimitViolation(limit as Parameters<typeof tokenLimitViolation>[0], d.tIn, d.tOut);
      if (violation) return this.drop(rec, 'filtered:too_many_tokens', `estimated: ${violation}`);
    }
    // The caller has looked the key up: a record counts as seen once it passed every filter.
    if (this.rules.config.prep.filters.dropDuplicates) {
      this.seen.set(d.k, { line: rec.line, row: rec.row });
      this.earlier?.note(d.k, this.scope!.chunk, rec.line, rec.row);
    }
    const meta: KeptMeta = { k: d.k, p: rec.pos, q, n: d.chars, t: d.tIn + d.tOut, b: d.record.length };
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
    this.sink.kept(JSON.stringify(meta), d.record);
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

  private drop(rec: SourceRecord, reason: RejectReason, detail: string, field?: string): void {
    if (reason === DUPLICATE) return this.dropDuplicate(rec, detail);
    if (rec.bytes && this.sink.rejectBytes && field === undefined) return this.dropBytes(rec, rec.bytes, reason, detail);
    const line: RejectLine = { reason, detail, record: prefix(rec.bytes ? headText(rec.bytes, PREFIX_CHARS) : rec.raw) };
    if (rec.line !== undefined) line.line = rec.line;
    if (rec.row !== undefined) line.row = rec.row;
    if (field !== undefined) line.field = field;
    this.sink.reject(JSON.stringify(line));
    countOutcome(this.counts, reason);
  }

  /**
   * A duplicate's reject line names the record it repeats instead of quoting its text: in a repetitive corpus most
   * records end here, and the first one's line or row finds the text.
   */
  private dropDuplicate(rec: SourceRecord, detail: string): void {
    this.sink.reject(`{"reason":"${DUPLICATE}","detail":${JSON.stringify(detail)}${rec.line !== undefined ? `,"line":${rec.line}` : ''}${rec.row !== undefined ? `,"row":${rec.row}` : ''}}`);
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

const KEY_CACHE_SIZE = 20_000;

/** What the byte path derives from the exact bytes of a record's text fields. */
interface ByteKnown {
  places: number[];
  chars: number;
  withInput: boolean;
  blank: boolean;
  /** Content key, token estimates and the rendered Bedrock record: once the text got past the length filter. */
  k?: string;
  tIn?: number;
  tOut?: number;
  record?: Buffer;
}

/**
 * The byte path's memo, kept by the module, so it outlives one chunk: an environment (a warm Lambda, a worker)
 * that transforms several chunks of a repetitive input derives each distinct text once. Everything in it is a pure
 * function of the field bytes and of the template and record format (its signature: a new one starts it afresh),
 * so it changes no outcome. Bounded by entries and by the bytes of the rendered records it holds.
 */
class ByteMemo {
  private static current?: ByteMemo;
  static for(signature: string): ByteMemo {
    if (ByteMemo.current?.signature !== signature) ByteMemo.current = new ByteMemo(signature);
    return ByteMemo.current;
  }

  private readonly map = new Map<string, ByteKnown>();
  private bytes = 0;
  private constructor(private readonly signature: string) {}

  get(key: string): ByteKnown | undefined {
    return this.map.get(key);
  }

  set(key: string, known: ByteKnown) {
    if (this.map.size >= KEY_CACHE_SIZE || this.bytes >= MEMO_BYTES) {
      this.map.clear();
      this.bytes = 0;
    }
    this.map.set(key, known);
    this.bytes += key.length + 64;
  }

  note(known: ByteKnown, d: { k: string; tIn: number; tOut: number; record: Buffer }) {
    known.k = d.k;
    known.tIn = d.tIn;
    known.tOut = d.tOut;
    known.record = d.record;
    this.bytes += d.record.length;
  }
}

const MEMO_BYTES = 32 * 1024 * 1024;

/**
 * The content keys a run's chunks kept in this environment, with the chunk and the place of the record kept: module
 * state, like ByteMemo, for the run being transformed. Bounded; forgetting only leaves more duplicates to split.
 */
class KeptIndex {
  private static current?: KeptIndex;
  static for(run: string): KeptIndex {
    if (KeptIndex.current?.run !== run) KeptIndex.current = new KeptIndex(run);
    return KeptIndex.current;
  }

  private readonly map = new Map<string, { chunk: number; line?: number; row?: number }>();
  private constructor(private readonly run: string) {}

  before(k: string, chunk: number): { line?: number; row?: number } | undefined {
    const e = this.map.get(k);
    return e && e.chunk < chunk ? e : undefined;
  }

  note(k: string, chunk: number, line: number | undefined, row: number | undefined) {
    const e = this.map.get(k);
    if (e && e.chunk <= chunk) return;
    if (this.map.size >= KEPT_INDEX_SIZE) this.map.clear();
    this.map.set(k, { chunk, line, row });
  }
}

const KEPT_INDEX_SIZE = 250_000;
const PREFIX_CHARS = 120;

/**
 * A key for exact repeats of a record's text fields: SHA-256 of the bytes from the first field to the last (what lies
 * between is part of it, which only makes it stricter), as a flat 32-character string. The fields' places in those
 * bytes are checked apart (`samePlaces`): equal key and places mean equal field bytes, so a record matching one whose
 * fields were checked needs no check of its own.
 */
function exactBytesKey(b: Buffer, a: FieldRange, input: FieldRange | undefined, c: FieldRange): string {
  const lo = Math.min(a.start, c.start, input?.start ?? a.start);
  const hi = Math.max(a.end, c.end, input?.end ?? a.end);
  return hash('sha256', b.subarray(lo, hi), 'binary'); // 'binary': latin1, one character a byte
}

/** The fields' offsets from the first field's start: text fields (a, input, output), then -1 for no input. */
function placesOf(a: FieldRange, input: FieldRange | undefined, c: FieldRange): number[] {
  const lo = Math.min(a.start, c.start, input?.start ?? a.start);
  return [a.start - lo, a.end - lo, c.start - lo, c.end - lo, input ? input.start - lo : -1, input ? input.end - lo : -1];
}

function samePlaces(p: readonly number[], a: FieldRange, input: FieldRange | undefined, c: FieldRange): boolean {
  const lo = Math.min(a.start, c.start, input?.start ?? a.start);
  return (
    p[0] === a.start - lo &&
    p[1] === a.end - lo &&
    p[2] === c.start - lo &&
    p[3] === c.end - lo &&
    p[4] === (input ? input.start - lo : -1) &&
    p[5] === (input ? input.end - lo : -1)
  );
}

const where = (at: { line?: number; row?: number }) => (at.line !== undefined ? `line ${at.line}` : `row ${at.row}`);

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
  const meta: Record<string, string | number> = {};
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
    if (b[i] === 0x7d) return i === b.length - 1 ? (meta as unknown as KeptMeta) : undefined;
    if (b[i] !== 0x2c) return undefined;
    i++;
  }
}
