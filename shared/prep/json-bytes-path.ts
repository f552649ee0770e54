import { isUtf8 } from 'node:buffer';
import { estimateTokens } from '../catalog';
import { decide, type FieldState, type FilterPolicy, type Place, type Verdict } from './filter-policy';
import { checkString, fieldText, FlatObjectReader, decodedText, type FieldRange } from './json-fields';
import type { KeptFacts, KeptLookup, SourceRecord } from './records';
import type { RecordRules } from './rules';
import { ByteKeyer } from './byte-key';
import type { DataFormat } from '../catalog';
import { bedrockRecord, type Mapped } from './template';
import { codePointLength, contentKey } from './text';
import { DUPLICATE } from '../artifacts/reasons';

/**
 * The byte path for JSON records: a flat object of strings (the common JSON Lines record) is read on its bytes
 * (json-fields.ts), and the filter policy decides on what its bytes say; the text is decoded only for a record that
 * gets past the length and duplicate filters and was not met before. Decoding UTF-8 Japanese text is the costliest
 * step per record, and most records of a large corpus are dropped before their text is needed.
 *
 * A record this path does not take (not UTF-8, not a flat object of strings, an escape it does not check) goes the
 * general way: parsed, then decided by the same policy. Either way the outcome is the same (see both-paths.test.ts).
 */
export class JsonBytesPath {
  private readonly reader: FlatObjectReader;
  private readonly facts: ByteFacts;
  /** What the path knows of a record's text by the exact bytes of its fields. */
  private readonly memo: ByteMemo;
  /** Reads a new text's facts from its bytes (byte-key.ts). */
  private readonly keyer: ByteKeyer;
  /** The policy's reserved words as UTF-8, searched for in the prompt's bytes. */
  private readonly wordBytes: Buffer[];
  /** The text fields of the record being read, when `known` decoded them (a new text the keyer did not read). */
  private readonly texts: DecodedTexts = { a: undefined, b: undefined, input: undefined };
  /** The record being settled, filled again for each (see Settle). */
  private readonly rec: SourceRecord = { pos: 0, line: undefined, row: undefined, raw: '', bytes: undefined };

  /** The byte path for these rules, or undefined when their template is not one it reads. */
  static for(
    rules: RecordRules,
    policy: FilterPolicy,
    kept: KeptLookup,
    out: Settle,
    utf8Checked = false,
  ): JsonBytesPath | undefined {
    const t = rules.config.prep.template;
    // The template's own strings are concatenated to the record's: a lone surrogate in them could pair across the
    // join and change the count, so such a template takes the general way.
    const plain = (s: string) => !/[\uD800-\uDFFF]/.test(s);
    if (!((t.kind === 'dolly' && plain(t.inputPrefix) && plain(t.knowledgeSeparator)) || t.kind === 'fields'))
      return undefined;
    return new JsonBytesPath(rules, policy, kept, out, utf8Checked);
  }

  private constructor(
    rules: RecordRules,
    private readonly policy: FilterPolicy,
    private readonly kept: KeptLookup,
    private readonly out: Settle,
    /** Every record's bytes are known to be UTF-8 (see ChunkProcessor): not checked again here. */
    private readonly utf8Checked: boolean,
  ) {
    const { template: t, categoryField } = rules.config.prep;
    const stratifyBy = rules.config.split.stratifyBy;
    if (t.kind === 'text') throw new Error('the byte path reads prompt/completion templates only');
    const names =
      t.kind === 'dolly'
        ? { a: t.instructionField, b: t.outputField, input: t.inputField, c: categoryField, g: stratifyBy }
        : { a: t.promptField, b: t.completionField, input: undefined, c: categoryField, g: stratifyBy };
    const texts = [names.a, names.b, ...(names.input !== undefined ? [names.input] : [])];
    const wanted = [...new Set([...texts, names.c, ...(names.g !== undefined ? [names.g] : [])])];
    // The text fields are checked only when their bytes are new (see `known`); category fields always.
    const lazy = new Set(texts.filter((n) => n !== names.c && n !== names.g));
    const slot = (n: string | undefined) => (n === undefined ? -1 : wanted.indexOf(n));
    this.reader = new FlatObjectReader(wanted, lazy);
    const slots = { a: slot(names.a), b: slot(names.b), input: slot(names.input), c: slot(names.c), g: slot(names.g) };
    this.memo = ByteMemo.for(JSON.stringify([t, rules.dataFormat]));
    this.keyer = new ByteKeyer(t.kind === 'dolly' ? t : undefined);
    this.wordBytes = (policy.reservedWords ?? []).map((w) => Buffer.from(w, 'utf8'));
    this.facts = new ByteFacts(rules, this.reader, slots, kept);
  }

  /**
   * Decides on one JSON record's bytes and hands the outcome to `out.settle`: true. False when this path does not
   * take the record (the caller parses it).
   */
  take(bytes: Buffer, pos: number, line: number | undefined, row: number | undefined): boolean {
    if (!(this.utf8Checked || isUtf8(bytes)) || !this.reader.read(bytes)) return false;
    const f = this.reader.fields;
    const { slots } = this.facts;
    const a = f[slots.a];
    const b = f[slots.b];
    const input = slots.input < 0 ? undefined : f[slots.input];
    let known: ByteKnown | undefined;
    const texts = this.texts;
    texts.a = texts.b = texts.input = undefined;
    if (a && b) {
      known = this.known(bytes, a, input, b);
      if (!known) return false; // not valid JSON: rejected the general way
    } else {
      // A missing field is the policy's to judge; the present ones are checked first, as JSON.parse would.
      for (const r of f) if (r && !r.checked && !checkString(bytes, r.start, r)) return false;
    }
    const facts = this.facts.reset(bytes, known, texts);
    const rec = this.rec;
    rec.pos = pos;
    rec.line = line;
    rec.row = row;
    rec.bytes = bytes;
    this.out.settle(rec, known ? this.verdictOf(known, facts) : decide(facts, this.policy), facts, 0);
    return true;
  }

  /**
   * The policy's verdict on a record whose text fields are `known`: a repeat gets the verdict its text got last time
   * while the lookup's stamp holds. A verdict is a function of the text, the policy (this path's, one per chunk) and
   * where the text was kept before, which the stamp vouches for (every verdict but a duplicate is decided before that
   * lookup, on the text alone: textVerdict); a kept record's (none) is not noted, as its next repeat is a duplicate.
   * A duplicate of a text this chunk kept is noted for this chunk (`stamp`); any other verdict also for the run's
   * later chunks under the same policy (`runStamp`), so a text repeated in every chunk is decided once per environment,
   * not once per chunk. Both text fields are there, so the fields' verdict is none.
   */
  private verdictOf(known: ByteKnown, facts: ByteFacts): Verdict | undefined {
    const stamp = this.kept.stamp();
    const runStamp = this.kept.runStamp();
    if (known.verdictFor === stamp || known.verdictFor === runStamp) return known.verdict;
    const verdict = decide(facts, this.policy);
    if (verdict) {
      known.verdict = verdict;
      known.verdictFor = verdict.reason === DUPLICATE && !verdict.earlierChunk ? stamp : runStamp;
    }
    return verdict;
  }

  /**
   * What is known of the text fields' bytes: from the memo (exact repeats are known by their bytes: the same bytes
   * are the same text, so the same lengths, content key and token estimates), or checked now.
   * Undefined when a field is not a valid JSON string.
   */
  private known(bytes: Buffer, a: FieldRange, input: FieldRange | undefined, b: FieldRange): ByteKnown | undefined {
    const lo = Math.min(a.start, b.start, input?.start ?? a.start);
    const hi = Math.max(a.end, b.end, input?.end ?? a.end);
    const known = this.memo.get(bytes, lo, hi);
    if (known && samePlaces(known, lo, a, input, b)) return known; // same bytes, other fields: not cached
    // Checked into the reader's own ranges: they are this record's. A new text is read by the keyer when it can (its
    // content key, tokens and reserved words without decoding it); otherwise each field is decoded now (decodedText),
    // as it will be for the content key, and the texts are handed to the facts. A field decodedText refuses is checked
    // on its bytes, which says whether it is valid JSON.
    const keyed = this.keyer.scan(bytes, a, input, b);
    if (!keyed) {
      const texts = this.texts;
      texts.a = decodedText(bytes, a);
      texts.b = decodedText(bytes, b);
      texts.input = input && decodedText(bytes, input);
      if (texts.a === undefined && !checkString(bytes, a.start, a)) return undefined;
      if (texts.b === undefined && !checkString(bytes, b.start, b)) return undefined;
      if (input && texts.input === undefined && !checkString(bytes, input.start, input)) return undefined;
    }
    // A prompt with an input holds it, so it is blank only without one.
    const withInput = input !== undefined && !input.blank;
    const fresh: ByteKnown = {
      aStart: a.start - lo,
      aEnd: a.end - lo,
      bStart: b.start - lo,
      bEnd: b.end - lo,
      inputStart: input ? input.start - lo : -1,
      inputEnd: input ? input.end - lo : -1,
      plain: !a.escaped && !b.escaped && !input?.escaped,
      canonical: a.canonical && b.canonical && (!input || input.canonical),
      chars: a.chars + b.chars + (withInput ? this.facts.prefixChars + input.chars : 0),
      withInput,
      blank: !withInput && a.blank ? 'prompt' : b.blank ? 'completion' : undefined,
      // Every field is there from the start, in one order: entries of one shape keep the code that reads them
      // monomorphic (fields added later gave each entry a map of its own, and V8 recompiled its readers each time).
      k: undefined,
      tIn: undefined,
      tOut: undefined,
      word: undefined,
      wordsOf: undefined,
      verdict: undefined,
      verdictFor: undefined,
      first: undefined,
      firstFor: undefined,
      slab: undefined,
      at: 0,
      length: 0,
      next: undefined,
      after: undefined,
      afterLength: -1,
    };
    if (keyed) {
      fresh.k = keyed.key;
      fresh.tIn = keyed.tokensIn;
      fresh.tOut = keyed.tokensOut;
      const words = this.policy.reservedWords;
      if (words) {
        fresh.word = words.find((_, i) => keyed.prompt.includes(this.wordBytes[i]!));
        fresh.wordsOf = words;
      }
    }
    if (!known) this.memo.set(bytes, lo, hi, fresh);
    return fresh;
  }
}

/**
 * Where the byte path hands a decided record: the chunk processor, which writes its kept or reject line. The record
 * is the path's own, filled again for the next: valid during the call only.
 */
export interface Settle {
  settle(rec: SourceRecord, verdict: Verdict | undefined, f: KeptFacts, q: number): void;
}

/** A record's text fields as decoded by `known`, each undefined when it was not (see decodedText). */
interface DecodedTexts {
  a: string | undefined;
  b: string | undefined;
  input: string | undefined;
}

/** What the byte path derives from the exact bytes of a record's text fields. */
interface ByteKnown {
  /**
   * Where the fields sit in the bytes the entry is known by (from the first field's start): the first text field's
   * start and end, the second's, and the input's (-1: no input). Numbers on the entry itself: every repeat reads them,
   * and an array would be one more object to fetch from memory (a repetitive corpus repeats thousands of texts in
   * turn, so an entry is seldom in the cache when its text comes again).
   */
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
  inputStart: number;
  inputEnd: number;
  /** No text field holds an escape: their bytes are their text. */
  plain: boolean;
  /** Every text field's bytes are JSON.stringify's rendering of its text (see FieldRange.canonical). */
  canonical: boolean;
  chars: number;
  withInput: boolean;
  blank: 'prompt' | 'completion' | undefined;
  /** Derived when first asked: the content key, the token estimates. */
  k?: string;
  tIn?: number;
  tOut?: number;
  /** The first reserved word the prompt holds, of the words `wordsOf` (see ByteFacts.reservedWord). */
  word?: string;
  wordsOf?: readonly string[];
  /** The verdict the text got from the path whose lookup had this stamp (see JsonBytesPath.verdictOf). */
  verdict?: Verdict;
  verdictFor?: object;
  /** Where the text was kept before, as the lookup with this stamp answered (see ByteFacts.keptBefore). */
  first?: Place;
  firstFor?: object;
  /**
   * The memo's: the field bytes this is known by, `length` bytes at `at` in `slab` (one of the memo's buffers, which
   * hold the bytes of many entries), the next entry with the same fingerprint, and the entry of the record that came
   * after this one's the last time with its length, kept here so that a guess of another length is dismissed without
   * reading that entry (see ByteMemo.get).
   */
  slab?: Buffer;
  at: number;
  length: number;
  next?: ByteKnown;
  after?: ByteKnown;
  afterLength: number;
}

/**
 * The facts of a record read on its bytes, for the policy and the kept line: the lengths and blankness from `known`,
 * the rest derived when first asked and noted there for the next record with the same field bytes. One instance per
 * path, reset per record.
 */
class ByteFacts implements KeptFacts {
  readonly prefixChars: number;
  private bytes!: Buffer;
  private known?: ByteKnown;
  private texts!: DecodedTexts;
  private prompt?: string;
  private completion?: string;

  constructor(
    private readonly rules: RecordRules,
    private readonly reader: FlatObjectReader,
    readonly slots: { a: number; b: number; input: number; c: number; g: number },
    private readonly kept: KeptLookup,
  ) {
    const t = rules.config.prep.template;
    this.prefixChars = t.kind === 'dolly' ? codePointLength(t.inputPrefix) + codePointLength(t.knowledgeSeparator) : 0;
    this.rendered = recordFrame(rules.dataFormat, t.kind === 'dolly' ? t : undefined);
  }

  /** The fixed bytes of a record line (see recordOfBytes); undefined for a format that does not hold each text once. */
  private readonly rendered?: RecordFrame;

  reset(bytes: Buffer, known: ByteKnown | undefined, texts: DecodedTexts): this {
    this.bytes = bytes;
    this.known = known;
    this.texts = texts;
    this.prompt = undefined;
    this.completion = undefined;
    return this;
  }

  notObject(): undefined {
    return undefined; // the reader reads objects only
  }

  field(name: string): FieldState {
    const i = this.reader.names.indexOf(name);
    return i >= 0 && this.reader.fields[i] ? 'text' : 'missing'; // every value the reader takes is a string
  }

  // The text facts are asked only once the fields passed, so `known` is there.
  blankPart(): 'prompt' | 'completion' | undefined {
    return this.known!.blank;
  }

  chars(): number {
    return this.known!.chars;
  }

  /** A pure function of the text and the words: noted in the memo's entry, as a repeat's text is not decoded. */
  reservedWord(words: readonly string[]): string | undefined {
    const known = this.known!;
    if (known.wordsOf !== words) {
      const prompt = this.decode().prompt!;
      known.word = words.find((w) => prompt.includes(w));
      known.wordsOf = words;
    }
    return known.word;
  }

  key(): string {
    if (this.known!.k === undefined) {
      this.decode();
      this.known!.k = contentKey([this.prompt!, this.completion!]);
    }
    return this.known!.k;
  }

  /** Asked of nearly every repeat: the place is noted in the memo's entry while the lookup's stamp holds. */
  keptBefore(): Place | undefined {
    const known = this.known!;
    const stamp = this.kept.stamp();
    if (known.firstFor === stamp) return known.first;
    const first = this.kept.firstOf(this.key());
    if (first) {
      known.first = first;
      known.firstFor = stamp;
    }
    return first;
  }

  tokensIn(): number {
    if (this.known!.tIn === undefined) this.known!.tIn = estimateTokens(this.decode().prompt!);
    return this.known!.tIn;
  }

  tokensOut(): number {
    if (this.known!.tOut === undefined) this.known!.tOut = estimateTokens(this.decode().completion!);
    return this.known!.tOut;
  }

  // Not memoised: a run keeps each text once, so its record is rendered once (the memo would only hold it).
  record(): Buffer {
    if (this.known!.canonical && this.rendered) return this.recordOfBytes(this.rendered);
    this.decode();
    const m: Mapped = { kind: 'pair', prompt: this.prompt!, completion: this.completion! };
    return Buffer.from(JSON.stringify(bedrockRecord(m, this.rules.dataFormat)));
  }

  /**
   * The record line made of the fields' bytes, as `JSON.stringify(bedrockRecord(...))` renders it: a field whose bytes
   * are canonical (known.canonical: no escapes but the ones JSON.stringify writes, and being UTF-8, no lone surrogate)
   * is its own JSON string body; the template's own strings are escaped once, in the constructor, and hold no
   * surrogate (see JsonBytesPath.for), so nothing pairs across a join. A view of a scratch buffer, valid until the next
   * record (the sink copies it).
   */
  private recordOfBytes(r: RecordFrame): Buffer {
    const f = this.reader.fields;
    const a = f[this.slots.a]!;
    const b = f[this.slots.b]!;
    const input = this.known!.withInput ? f[this.slots.input]! : undefined;
    const need =
      r.head.length +
      (a.end - a.start) +
      r.mid.length +
      (b.end - b.start) +
      r.tail.length +
      (input ? r.inputPrefix.length + r.separator.length + (input.end - input.start) : 0);
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafe(Math.max(need, 2 * this.scratch.length));
    const out = this.scratch;
    const src = this.bytes;
    let o = 0;
    out.set(r.head, o);
    o += r.head.length;
    if (input) {
      out.set(r.inputPrefix, o);
      o += r.inputPrefix.length;
    }
    o += src.copy(out, o, a.start, a.end);
    if (input) {
      out.set(r.separator, o);
      o += r.separator.length;
      o += src.copy(out, o, input.start, input.end);
    }
    out.set(r.mid, o);
    o += r.mid.length;
    o += src.copy(out, o, b.start, b.end);
    out.set(r.tail, o);
    o += r.tail.length;
    return out.subarray(0, o);
  }

  private scratch = Buffer.allocUnsafe(16 * 1024);

  category(): string | undefined {
    const c = this.reader.fields[this.slots.c];
    return c && fieldText(this.bytes, c);
  }

  stratum(): string | undefined {
    const g = this.slots.g < 0 ? undefined : this.reader.fields[this.slots.g];
    return g && fieldText(this.bytes, g);
  }

  /** The prompt and completion as the template makes them, decoded once per record (and only when needed). */
  private decode(): this {
    if (this.prompt === undefined) {
      const t = this.rules.config.prep.template;
      const f = this.reader.fields;
      // The reader only delimits the text fields, so whether they hold escapes is known from their first check.
      const text = (r: FieldRange | undefined, decoded: string | undefined) =>
        decoded ?? (this.known!.plain && r ? this.bytes.toString('utf8', r.start, r.end) : fieldText(this.bytes, r));
      const { texts } = this;
      const a = text(f[this.slots.a], texts.a);
      this.prompt =
        t.kind === 'dolly' && this.known!.withInput
          ? t.inputPrefix + a + t.knowledgeSeparator + text(f[this.slots.input], texts.input)
          : a;
      this.completion = text(f[this.slots.b], texts.b);
    }
    return this;
  }
}

/** The bytes of a record line around its prompt and completion, and the template's strings as JSON string bodies. */
type RecordFrame = Record<'head' | 'inputPrefix' | 'separator' | 'mid' | 'tail', Buffer>;

/**
 * The frame of the record lines of `format`: one line rendered as the general way renders it (bedrockRecord, then
 * JSON.stringify) with marker texts for the prompt and the completion, cut at the markers. Undefined when a marker
 * is not there exactly once (a format that does not hold each text once, as it is).
 */
function recordFrame(
  format: DataFormat,
  dolly: { inputPrefix: string; knowledgeSeparator: string } | undefined,
): RecordFrame | undefined {
  const P = 'prompt-9f1c2e';
  const C = 'completion-9f1c2e';
  const line = JSON.stringify(bedrockRecord({ kind: 'pair', prompt: P, completion: C }, format));
  const parts = line.split(P);
  const rest = parts.length === 2 ? parts[1]!.split(C) : [];
  if (rest.length !== 2 || parts[0]!.includes(C)) return undefined;
  const body = (s: string) => Buffer.from(JSON.stringify(s).slice(1, -1));
  return {
    head: Buffer.from(parts[0]!),
    inputPrefix: body(dolly?.inputPrefix ?? ''),
    separator: body(dolly?.knowledgeSeparator ?? ''),
    mid: Buffer.from(rest[0]!),
    tail: Buffer.from(rest[1]!),
  };
}

const MEMO_ENTRIES = 20_000;
const MEMO_BYTES = 32 * 1024 * 1024;
/** Entries a fingerprint may name before the memo takes no more of it: a bound on the byte comparisons of a look-up. */
const MEMO_CHAIN = 8;
/** The size of the buffers the memo copies entries' bytes into (see ByteMemo.set). */
const MEMO_SLAB = 1024 * 1024;

/**
 * The byte path's memo, kept by the module, so it outlives one chunk: an environment (a warm Lambda, a worker)
 * that transforms several chunks of a repetitive input derives each distinct text once. Everything in it is a pure
 * function of the field bytes and of the template and record format (its signature: a new one starts it afresh),
 * so it changes no outcome. Bounded by entries and by the bytes it holds.
 *
 * An entry is found by its exact bytes: a cheap fingerprint of the bytes from the first text field to the last (what
 * lies between is part of them, which only makes the match stricter) picks the candidates, and a byte comparison
 * decides. A cryptographic hash of every record's bytes cost more than the rest of a repeat's handling.
 */
class ByteMemo {
  private static current?: ByteMemo;
  static for(signature: string): ByteMemo {
    if (ByteMemo.current?.signature !== signature) ByteMemo.current = new ByteMemo(signature);
    return ByteMemo.current;
  }

  private readonly map = new Map<number, ByteKnown>();
  private bytes = 0;
  /** The buffer the next entries' bytes are copied into, and how much of it is taken. */
  private slab = Buffer.allocUnsafeSlow(MEMO_SLAB);
  private slabUsed = 0;
  /** The entry last found or noted: its `after` is the guess for the next record (see get). */
  private last: ByteKnown | undefined;
  private constructor(private readonly signature: string) {}

  /**
   * The entry whose bytes are b[lo, hi), if there is one. Repeats tend to come in runs, in the order their texts came
   * before (a file uploaded again, or a data set joined to itself), so the entry that followed the last one found
   * the time before is compared first: when it matches, neither the fingerprint nor the map is read. Only equal bytes
   * match either way; in any other order the guess costs a length check, or a comparison when the lengths agree.
   */
  get(b: Buffer, lo: number, hi: number): ByteKnown | undefined {
    const last = this.last;
    const n = hi - lo;
    if (last && last.afterLength === n) {
      const guess = last.after!;
      if (guess.length === n && guess.slab!.compare(b, lo, hi, guess.at, guess.at + n) === 0)
        return (this.last = guess);
    }
    for (let e = this.map.get(fingerprint(b, lo, hi)); e; e = e.next)
      if (e.length === n && e.slab!.compare(b, lo, hi, e.at, e.at + n) === 0) {
        if (last) follows(last, e);
        return (this.last = e);
      }
    return undefined;
  }

  /** Notes what is known of the bytes b[lo, hi), which `get` did not find. */
  set(b: Buffer, lo: number, hi: number, known: ByteKnown) {
    if (this.map.size >= MEMO_ENTRIES || this.bytes >= MEMO_BYTES) {
      this.last = undefined; // no entry noted from here names one from before, which can then be collected
      this.map.clear();
      this.bytes = 0;
      this.slabUsed = this.slab.length; // the next entry starts a slab of its own
    }
    const f = fingerprint(b, lo, hi);
    const first = this.map.get(f);
    let chain = 0;
    for (let e = first; e; e = e.next) if (++chain >= MEMO_CHAIN) return;
    const n = hi - lo;
    // The bytes of many entries share a slab, copied one after another: a look-up then reads one entry and its bytes,
    // not a Buffer object of each entry's own as well. Bytes longer than a slab get a buffer of their own.
    if (this.slabUsed + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(MEMO_SLAB, n));
      this.slabUsed = 0;
    }
    known.slab = this.slab;
    known.at = this.slabUsed;
    known.length = n;
    this.slabUsed += b.copy(this.slab, this.slabUsed, lo, hi);
    known.next = first;
    if (this.last) follows(this.last, known);
    this.last = known;
    this.map.set(f, known);
    this.bytes += n + 128;
  }
}

/** Notes that `next`'s record came after `entry`'s (see ByteMemo.get). */
function follows(entry: ByteKnown, next: ByteKnown) {
  entry.after = next;
  entry.afterLength = next.length;
}

/**
 * A fingerprint of b[lo, hi) for the memo's map: its length and 4-byte words taken at 16 places spread over it,
 * and its last 4 bytes, mixed into a small integer. Not every byte counts: equal fingerprints are only candidates.
 */
function fingerprint(b: Buffer, lo: number, hi: number): number {
  const n = hi - lo;
  let h = Math.imul(n, 0x9e3779b1);
  const step = n > 64 ? Math.floor(n / 16) : 4;
  for (let i = lo; i + 4 <= hi; i += step) h = mix(h, b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
  if (n >= 4) h = mix(h, b[hi - 4]! | (b[hi - 3]! << 8) | (b[hi - 2]! << 16) | (b[hi - 1]! << 24));
  return (h ^ (h >>> 16)) & 0x3fffffff; // a small integer: a fast key
}

const mix = (h: number, w: number) => {
  const x = Math.imul(h ^ w, 0x85ebca6b);
  return x ^ (x >>> 13);
};

/** Whether the fields sit where an entry's did: equal bytes and places mean equal field bytes. */
function samePlaces(k: ByteKnown, lo: number, a: FieldRange, input: FieldRange | undefined, c: FieldRange): boolean {
  return (
    k.aStart === a.start - lo &&
    k.aEnd === a.end - lo &&
    k.bStart === c.start - lo &&
    k.bEnd === c.end - lo &&
    k.inputStart === (input ? input.start - lo : -1) &&
    k.inputEnd === (input ? input.end - lo : -1)
  );
}
