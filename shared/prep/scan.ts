import { InputError } from './errors';

/**
 * Record splitters: cut a stream of UTF-8 bytes into records on record boundaries, without parsing the records.
 * Ingest runs them over the whole file to plan chunks (and to find a broken file before any work is queued);
 * transform runs them over its chunk. Positions are byte offsets in the decompressed, decoded input, so they do not
 * depend on how the input was cut into chunks.
 */
export type TextFormat = 'jsonl' | 'json' | 'csv' | 'tsv';

export interface RawRecord {
  bytes: Buffer;
  /** Byte offset of the record's first byte in the whole input. */
  pos: number;
  /** 1-based line the record starts on (text formats). */
  line: number;
  /** 0-based element index (JSON array). */
  index: number;
}

export type OnRecord = (r: RawRecord) => void;

export interface SplitterOptions {
  /** Offset of the first byte pushed, in the whole input. */
  offset?: number;
  /** Line number at `offset` (1-based). */
  line?: number;
  /** Element index of the first element at `offset` (JSON array). */
  index?: number;
  /** `file` when starting at byte 0; `fragment` when starting at a record boundary inside the file. */
  mode?: 'file' | 'fragment';
  /** Whether the pushed bytes run to the end of the input (a JSON array must then be closed). */
  last?: boolean;
  file?: string;
}

export interface RecordSplitter {
  push(chunk: Buffer, onRecord: OnRecord): void;
  end(onRecord: OnRecord): void;
  /** Bytes consumed so far (offset of the next byte). */
  readonly position: number;
  /** Lines started so far. */
  readonly line: number;
}

export function makeSplitter(format: TextFormat, opts: SplitterOptions = {}): RecordSplitter {
  if (format === 'json') return new JsonArraySplitter(opts);
  if (format === 'jsonl') return new LineSplitter(opts, false);
  return new LineSplitter(opts, true);
}

const NL = 10;
const CR = 13;
const QUOTE = 34;

const isBlank = (b: Buffer, s: number, e: number): boolean => {
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c !== 32 && c !== 9 && c !== CR && c !== NL) return false;
  }
  return true;
};

const bomLength = (b: Buffer, s: number): number => (b[s] === 0xef && b[s + 1] === 0xbb && b[s + 2] === 0xbf ? 3 : 0);

/** Lines, or (with `quoted`) CSV records whose quoted fields may hold newlines. Blank lines are not records. */
class LineSplitter implements RecordSplitter {
  private pending: Buffer[] = [];
  private pendingStart: number;
  private pendingLine: number;
  private inQuote = false;
  position: number;
  line: number;
  private readonly atFileStart: boolean;

  constructor(
    private readonly opts: SplitterOptions,
    private readonly quoted: boolean,
  ) {
    this.position = opts.offset ?? 0;
    this.pendingStart = this.position;
    this.line = opts.line ?? 1;
    this.pendingLine = this.line;
    this.atFileStart = (opts.mode ?? 'file') === 'file' && this.position === 0;
  }

  push(chunk: Buffer, onRecord: OnRecord): void {
    const base = this.position;
    let s = 0;
    if (this.quoted) {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (c === QUOTE) this.inQuote = !this.inQuote;
        else if (c === NL) {
          this.line++;
          if (!this.inQuote) {
            this.emit(chunk, s, i, base, onRecord);
            s = i + 1;
          }
        }
      }
    } else {
      let nl: number;
      while ((nl = chunk.indexOf(NL, s)) !== -1) {
        this.line++;
        this.emit(chunk, s, nl, base, onRecord);
        s = nl + 1;
      }
    }
    if (s < chunk.length) this.pending.push(s === 0 ? chunk : chunk.subarray(s));
    this.position = base + chunk.length;
  }

  private emit(chunk: Buffer, s: number, e: number, base: number, onRecord: OnRecord): void {
    let bytes: Buffer;
    if (this.pending.length) {
      bytes = Buffer.concat([...this.pending, chunk.subarray(s, e)]);
      this.pending = [];
    } else {
      bytes = chunk.subarray(s, e);
    }
    const pos = this.pendingStart;
    const line = this.pendingLine;
    this.pendingStart = base + e + 1;
    this.pendingLine = this.line;
    this.deliver(bytes, pos, line, onRecord);
  }

  private deliver(bytes: Buffer, pos: number, line: number, onRecord: OnRecord) {
    let s = 0;
    let e = bytes.length;
    if (pos === 0 && this.atFileStart) s = bomLength(bytes, 0);
    if (e > s && bytes[e - 1] === CR) e--;
    if (isBlank(bytes, s, e)) return;
    onRecord({ bytes: s === 0 && e === bytes.length ? bytes : bytes.subarray(s, e), pos, line, index: 0 });
  }

  end(onRecord: OnRecord): void {
    if (this.quoted && this.inQuote) {
      throw new InputError(
        `a quoted field opened on line ${this.pendingLine} is never closed: the file ends inside it`,
        {
          file: this.opts.file,
          line: this.pendingLine,
          offset: this.pendingStart,
        },
      );
    }
    if (this.pending.length) {
      const bytes = Buffer.concat(this.pending);
      this.pending = [];
      this.deliver(bytes, this.pendingStart, this.pendingLine, onRecord);
    }
  }
}

const enum J {
  Before,
  Expect,
  InElement,
  Done,
}

const BOM = [0xef, 0xbb, 0xbf];
const isWs = (c: number) => c === 32 || c === 9 || c === NL || c === CR;

/**
 * The elements of one top-level JSON array, found by a byte-level state machine (strings, escapes, nesting), so a
 * gigabyte array never has to be parsed, or held, as a whole. Each element is parsed on its own by the caller.
 */
class JsonArraySplitter implements RecordSplitter {
  private state: J;
  private depth = 0;
  private inString = false;
  private escape = false;
  private pending: Buffer[] = [];
  private elemStart = 0;
  private elemLine = 1;
  private index: number;
  position: number;
  line: number;
  private sawElement = false;

  constructor(private readonly opts: SplitterOptions) {
    this.position = opts.offset ?? 0;
    this.line = opts.line ?? 1;
    this.index = opts.index ?? 0;
    this.state = (opts.mode ?? 'file') === 'file' ? J.Before : J.Expect;
  }

  private fail(message: string, offset: number): never {
    throw new InputError(message, { file: this.opts.file, line: this.line, row: this.index, offset });
  }

  push(chunk: Buffer, onRecord: OnRecord): void {
    const base = this.position;
    let start = this.state === J.InElement ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === NL) this.line++;
      switch (this.state) {
        case J.Before:
          if (isWs(c)) continue;
          if (base + i < 3 && c === BOM[base + i]) continue; // a byte-order mark, possibly split across buffers
          if (c !== 0x5b)
            this.fail(`expected a JSON array ('[') at line ${this.line}, found '${String.fromCharCode(c)}'`, base + i);
          this.state = J.Expect;
          continue;
        case J.Expect:
          if (isWs(c)) continue;
          if (c === 0x5d) {
            if (this.sawElement)
              this.fail(
                `a comma before ']' at line ${this.line} (element ${this.index}) leaves an empty element`,
                base + i,
              );
            this.state = J.Done;
            continue;
          }
          if (c === 0x2c)
            this.fail(`an empty element (two commas) at line ${this.line}, element ${this.index}`, base + i);
          this.state = J.InElement;
          this.elemStart = base + i;
          this.elemLine = this.line;
          start = i;
          this.depth = 0;
          this.inString = false;
          i--; // read this byte again as part of the element (it is not whitespace, so not a newline)
          continue;
        case J.InElement:
          if (this.inString) {
            if (this.escape) this.escape = false;
            else if (c === 0x5c) this.escape = true;
            else if (c === QUOTE) this.inString = false;
            continue;
          }
          if (c === QUOTE) this.inString = true;
          else if (c === 0x7b || c === 0x5b) this.depth++;
          else if ((c === 0x7d || c === 0x5d) && this.depth > 0) this.depth--;
          else if (this.depth === 0 && (c === 0x2c || c === 0x5d)) {
            this.finishElement(chunk, start, i, onRecord);
            start = -1;
            this.state = c === 0x2c ? J.Expect : J.Done;
          }
          continue;
        case J.Done:
          if (!isWs(c)) this.fail(`content after the end of the JSON array at line ${this.line}`, base + i);
          continue;
      }
    }
    if (this.state === J.InElement && start >= 0) this.pending.push(chunk.subarray(start));
    this.position = base + chunk.length;
  }

  private finishElement(chunk: Buffer, start: number, end: number, onRecord: OnRecord) {
    let bytes = chunk.subarray(start, end);
    if (this.pending.length) {
      bytes = Buffer.concat([...this.pending, bytes]);
      this.pending = [];
    }
    let e = bytes.length;
    while (e > 0 && isWs(bytes[e - 1]!)) e--;
    this.sawElement = true;
    onRecord({ bytes: bytes.subarray(0, e), pos: this.elemStart, line: this.elemLine, index: this.index });
    this.index++;
  }

  end(_onRecord: OnRecord): void {
    const last = this.opts.last ?? true;
    if (this.state === J.InElement) {
      if (this.inString)
        this.fail(
          `a string in element ${this.index} (from line ${this.elemLine}) is never closed: the file ends inside it`,
          this.elemStart,
        );
      this.fail(
        `the JSON array is not closed: the file ends inside element ${this.index} (from line ${this.elemLine})`,
        this.elemStart,
      );
    }
    if (this.state === J.Before) this.fail('the file holds no JSON array', this.position);
    if (last && this.state !== J.Done)
      this.fail(`the JSON array is not closed: no ']' before the end of the file (line ${this.line})`, this.position);
  }
}
