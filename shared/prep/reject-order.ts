import { DUPLICATE } from '../artifacts/reasons';
import type { LineWriter } from './lines';

const NL = 10;
const SAME_AS = Buffer.from(`{"reason":"${DUPLICATE}","detail":"same text as `);
const LINE_WORD = Buffer.from('line ');
const ROW_WORD = Buffer.from('row ');
const PIECE_WORD = Buffer.from(' piece ');
/** A duplicate's line up to the number of the place it names. */
const SAME_AS_LINE = Buffer.concat([SAME_AS, LINE_WORD]);
const SAME_AS_ROW = Buffer.concat([SAME_AS, ROW_WORD]);
const LINE_KEY = Buffer.from(',"line":');
const ROW_KEY = Buffer.from(',"row":');
const TOO_LONG = Buffer.from('{"reason":"filtered:sentence_too_long"');

/** A place's kind, as split notes it: a line (JSON Lines, CSV, TSV) or a row (JSON array, Parquet). */
export const LINE = 1;
export const ROW = 2;

/** What split found of one chunk's kept lines, for `mergeRejects`. */
export interface ChunkDuplicates {
  /** The first of the chunk's kept lines from `from` on that split drops as a duplicate across chunks; -1: none. */
  next(from: number): number;
  /** The kept line's line or row. */
  place(i: number): number;
  /**
   * The pieces of its record (a continued pre-training document) that transform rejected before this one: the reject
   * lines of the record that come before its own, after any too-long sentence's.
   */
  skip(i: number): number;
  /** Writes the reject line of kept line `i`. */
  write(i: number): Promise<void> | undefined;
  /**
   * Where the text kept at line or row `n` (and `piece` of its document, or -1) stays, when split dropped that record
   * as a duplicate of an earlier one: its place, and whether the record named is in this chunk (transform then counted
   * the duplicate naming it as one within the chunk). Undefined when the record named stays. Absent when no duplicate
   * line of the chunk needs a look (see mergeRejects).
   */
  staysAt?(kind: number, n: number, piece: number): { place: number; inChunk: boolean } | undefined;
}

/**
 * One chunk's reject lines (numbered in the whole file: see shiftLineNumbers) written to `out` with the duplicates
 * across chunks that split found among the chunk's kept lines, in source order: each duplicate's line goes where the
 * transform that had kept the earlier copy itself (one environment for every chunk) would have written it, so
 * rejects.jsonl is the same byte for byte whichever environment found a duplicate. Lines are ordered by their line
 * or row; within one record (a document cut into pieces), after its too-long sentences and the `skip` pieces rejected
 * before it. A duplicate that transform found in its chunk and that names a record split dropped is renamed to the
 * record that stays (`staysAt`), as that transform would have named it, and written without the piece transform names
 * in a document's (`same text as line 3 piece 1`), which tells the pieces of one line apart.
 *
 * Streams: runs of lines that need nothing are copied as blocks; a plain loop over the bytes otherwise (a repetitive
 * corpus has hundreds of thousands of duplicate lines). Returns how many duplicates it renamed to a record of an
 * earlier chunk that transform had counted as duplicates within the chunk.
 */
export async function mergeRejects(
  source: AsyncIterable<Buffer>,
  out: LineWriter,
  dups: ChunkDuplicates,
): Promise<number> {
  const m = new Merge(out, dups);
  let carry: Buffer | undefined;
  for await (const chunk of source) {
    const piece = chunk as Buffer;
    let from = 0;
    if (carry) {
      const nl = piece.indexOf(NL);
      if (nl === -1) {
        carry = Buffer.concat([carry, piece]);
        continue;
      }
      const line = Buffer.concat([carry, piece.subarray(0, nl + 1)]);
      carry = undefined;
      await m.lines(line, 0, line.length);
      from = nl + 1;
    }
    const last = piece.lastIndexOf(NL);
    if (last < from) {
      carry = Buffer.from(piece.subarray(from));
      continue;
    }
    if (last + 1 < piece.length) carry = Buffer.from(piece.subarray(last + 1));
    await m.lines(piece, from, last + 1);
  }
  if (carry?.length) {
    const line = Buffer.concat([carry, Buffer.from([NL])]);
    await m.lines(line, 0, line.length);
  }
  await m.rest();
  return m.renamedInChunk;
}

class Merge {
  /** The next kept line split drops, and its place. */
  private d: number;
  private dPlace = 0;
  /** The place of the last reject line written, and how many of the lines at that place were pieces' rejects. */
  private place = -1;
  private pieces = 0;
  renamedInChunk = 0;

  constructor(
    private readonly out: LineWriter,
    private readonly dups: ChunkDuplicates,
  ) {
    this.d = dups.next(0);
    if (this.d >= 0) this.dPlace = dups.place(this.d);
  }

  /** The whole lines in buf[start, end), each with its line break. */
  async lines(buf: Buffer, start: number, end: number): Promise<void> {
    const { dups, out } = this;
    const rename = dups.staysAt;
    let run = start; // lines from `run` on are not written yet, and need nothing
    let runLines = 0;
    let s = start;
    while (s < end) {
      if (this.d < 0 && !rename) break; // nothing more to merge or rename: the rest goes as it is
      const e = buf.indexOf(NL, s);
      const at = placeOf(buf, s, e);
      if (at !== this.place) {
        this.place = at;
        this.pieces = 0;
      }
      let tooLong: boolean | undefined;
      while (this.d >= 0 && at >= 0 && this.dPlace <= at) {
        if (this.dPlace === at) {
          // The same record: a duplicate piece comes after its record's too-long sentences and rejected pieces before
          // it.
          tooLong ??= startsWith(buf, s, e, TOO_LONG);
          if (tooLong || this.pieces < dups.skip(this.d)) break;
        }
        if (s > run) {
          const wait = this.block(buf, run, s, runLines);
          if (wait) await wait;
        }
        run = s;
        runLines = 0;
        const wait = dups.write(this.d);
        if (wait) await wait;
        this.d = dups.next(this.d + 1);
        if (this.d >= 0) this.dPlace = dups.place(this.d);
      }
      if (this.d >= 0 && at === this.dPlace && !(tooLong ??= startsWith(buf, s, e, TOO_LONG))) this.pieces++;
      if (rename && isDuplicate(buf, s, e) && this.renamed(buf, s, e, rename)) {
        // Written renamed: the lines before it go first.
        if (s > run) {
          const wait = this.block(buf, run, s, runLines);
          if (wait) await wait;
        }
        const wait = out.writeHeadIntTail(this.head, this.stays, buf, this.from, e);
        if (wait) await wait;
        run = e + 1;
        runLines = 0;
      } else runLines++;
      s = e + 1;
    }
    if (s < end) {
      // The rest of the buffer, every line counted.
      for (let i = buf.indexOf(NL, s); i !== -1 && i < end; i = buf.indexOf(NL, i + 1)) runLines++;
      s = end;
    }
    if (s > run) {
      const wait = this.block(buf, run, s, runLines);
      if (wait) await wait;
    }
  }

  /** The duplicates after the chunk's last reject line. */
  async rest(): Promise<void> {
    while (this.d >= 0) {
      const wait = this.dups.write(this.d);
      if (wait) await wait;
      this.d = this.dups.next(this.d + 1);
    }
  }

  private block(buf: Buffer, from: number, to: number, lines: number): Promise<void> | undefined {
    return this.out.writeLines(buf.subarray(from, to), lines);
  }

  /**
   * A duplicate's line `…"same text as line N[ piece P]","line":M}` whose record at N split dropped, or with a piece:
   * true, and what to write noted (`write`): the line naming the record that stays, without the piece. False when the
   * line stays as it is.
   */
  private renamed(buf: Buffer, s: number, e: number, rename: NonNullable<ChunkDuplicates['staysAt']>): boolean {
    let q = s + SAME_AS.length;
    const kind = startsWith(buf, q, e, LINE_WORD) ? LINE : startsWith(buf, q, e, ROW_WORD) ? ROW : 0;
    if (!kind) return false;
    q += kind === LINE ? LINE_WORD.length : ROW_WORD.length;
    const at = q;
    let n = 0;
    while (q < e && buf[q]! >= 0x30 && buf[q]! <= 0x39) n = n * 10 + buf[q++]! - 0x30;
    if (q === at) return false;
    let piece = -1;
    if (startsWith(buf, q, e, PIECE_WORD)) {
      q += PIECE_WORD.length;
      const ps = q;
      piece = 0;
      while (q < e && buf[q]! >= 0x30 && buf[q]! <= 0x39) piece = piece * 10 + buf[q++]! - 0x30;
      if (q === ps) return false;
    }
    if (buf[q] !== 0x22) return false;
    const stays = rename(kind, n, piece);
    if (!stays && piece < 0) return false;
    if (stays?.inChunk) this.renamedInChunk++;
    // Renamed: the head up to the number, the place that stays, the rest; or only the piece left out.
    this.head = kind === LINE ? SAME_AS_LINE : SAME_AS_ROW;
    this.stays = stays ? stays.place : n;
    this.from = q;
    return true;
  }

  /** The renamed line `renamed` noted: `head`, the place that `stays` and the line's bytes from `from` on. */
  private head = SAME_AS_LINE;
  private stays = 0;
  private from = 0;
}

/**
 * A reject line's line or row (`,"line":N` or `,"row":N`, the line's last key but for a `field`), read from its end;
 * -1 for a line without one. The key cannot occur inside a JSON string, where every quote is escaped.
 */
export function placeOf(buf: Buffer, s: number, e: number): number {
  // Most lines end with the number: `…,"line":123}`.
  let q = e - 1;
  if (buf[q] === 0x7d) {
    let n = 0;
    let scale = 1;
    q--;
    while (q > s && buf[q]! >= 0x30 && buf[q]! <= 0x39) {
      n += (buf[q]! - 0x30) * scale;
      scale *= 10;
      q--;
    }
    if (scale > 1 && buf[q] === 0x3a && (endsWith(buf, s, q + 1, LINE_KEY) || endsWith(buf, s, q + 1, ROW_KEY)))
      return n;
  }
  // A `field` follows: the key searched from the end.
  for (let i = e - ROW_KEY.length; i >= s; i--) {
    if (buf[i] !== 0x2c) continue;
    const key = startsWith(buf, i, e, LINE_KEY) ? LINE_KEY : startsWith(buf, i, e, ROW_KEY) ? ROW_KEY : undefined;
    if (!key) continue;
    let j = i + key.length;
    let n = 0;
    const at = j;
    while (j < e && buf[j]! >= 0x30 && buf[j]! <= 0x39) n = n * 10 + buf[j++]! - 0x30;
    if (j > at) return n;
  }
  return -1;
}

/** Whether the line is a duplicate's: its head compared by the library (a byte loop costs more for 45 bytes). */
function isDuplicate(buf: Buffer, s: number, e: number): boolean {
  return s + SAME_AS.length <= e && buf.compare(SAME_AS, 0, SAME_AS.length, s, s + SAME_AS.length) === 0;
}

function startsWith(buf: Buffer, at: number, end: number, prefix: Buffer): boolean {
  if (at + prefix.length > end) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

function endsWith(buf: Buffer, start: number, end: number, suffix: Buffer): boolean {
  return end - suffix.length >= start && startsWith(buf, end - suffix.length, end, suffix);
}
