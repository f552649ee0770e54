import { DUPLICATE } from '../artifacts/reasons';
import { writeDecimal } from './lines';
import { LINE, type ChunkDuplicates } from './reject-order';

const DUPLICATE_HEAD = Buffer.from(`{"reason":"${DUPLICATE}","detail":"same text as line `);
const OF_CHUNK = Buffer.from(' of chunk ');
const LINE_KEY = Buffer.from(',"line":');
const DETAIL_END_LINE_KEY = Buffer.from('","line":');
const NL = 10;

/**
 * Renames duplicates while their lines are renumbered (see shiftLineNumbers): `staysAt` as mergeRejects takes it, for
 * records that are not pieces of documents, and how many duplicates it renamed to a record of this chunk.
 */
export interface Renames {
  staysAt: NonNullable<ChunkDuplicates['staysAt']>;
  renamedInChunk: number;
}

/**
 * The reject lines of a chunk whose lines count from its own start (ChunkPlan.relativeLines), renumbered as lines of
 * the file: `offsets[chunk]` is added to each line's `"line"`, and to the line a duplicate's detail names, which is in
 * the same chunk (`same text as line 12`) or in the earlier one it names (`same text as line 12 of chunk 3`, written
 * so by transform; the chunk's name goes). A duplicate in short (ChunkDuplicateLine: `[12,40]`, `[12,3,40]`) is
 * written out as the RejectLine it stands for, renumbered the same way. Works on the bytes as transform wrote them:
 * `,"line":` cannot occur inside a JSON string, where every quote is escaped, so the one there is the key. A plain
 * loop over the bytes: a repetitive corpus has hundreds of thousands of these lines, too many for a few library calls
 * each.
 *
 * With `renames`, a duplicate whose record split dropped is named by the record that stays, as mergeRejects would
 * rename it (the same bytes), while its number is at hand: mergeRejects then need not read every line again. Only
 * for records that are not pieces of documents (a piece's duplicate names its piece, which mergeRejects leaves out).
 *
 * `file` names the chunk's rejects in errors: a line this pass cannot read is reported with the file and its line.
 */
export async function* shiftLineNumbers(
  source: AsyncIterable<Buffer>,
  chunk: number,
  offsets: readonly number[],
  renames?: Renames,
  file = `chunk ${chunk}'s rejects`,
): AsyncGenerator<Buffer> {
  const own = offsets[chunk];
  if (own === undefined) throw new Error(`${file}: no line offset for chunk ${chunk}`);
  // The most a line grows by: a short duplicate written out with two numbers longer by the largest offset each.
  const grow = DUPLICATE_HEAD.length + DETAIL_END_LINE_KEY.length + 2 + 2 * String(Math.max(...offsets)).length;
  const state: ShiftState = { at: 0, lines: 0, file };
  let carry: Buffer | undefined;
  for await (const piece of source) {
    let from = 0;
    if (carry) {
      // The line cut at the end of the last piece is finished alone, so this piece is not copied.
      const nl = piece.indexOf(NL);
      if (nl === -1) {
        carry = Buffer.concat([carry, piece]);
        continue;
      }
      const line = Buffer.concat([carry, piece.subarray(0, nl + 1)]);
      carry = undefined;
      yield* shifted(line, 0, line.length, own, offsets, grow, renames, state);
      from = nl + 1;
    }
    const last = piece.lastIndexOf(NL);
    if (last < from) {
      carry = Buffer.from(piece.subarray(from));
      continue;
    }
    if (last + 1 < piece.length) carry = Buffer.from(piece.subarray(last + 1));
    yield* shifted(piece, from, last + 1, own, offsets, grow, renames, state);
  }
  if (carry?.length)
    yield* shifted(Buffer.concat([carry, Buffer.from([NL])]), 0, carry.length + 1, own, offsets, grow, renames, state);
}

/** What shifted writes into at most: short duplicates grow about sevenfold, so a piece may take several. */
const OUT_BYTES = 256 * 1024;

/** Where shiftLines is in a chunk's rejects: the next line's byte in the piece at hand, and the lines before it. */
interface ShiftState {
  at: number;
  lines: number;
  readonly file: string;
}

/** The whole lines in buf[start, end) (each ending with a line break), shifted into new buffers. */
function* shifted(
  buf: Buffer,
  start: number,
  end: number,
  own: number,
  offsets: readonly number[],
  grow: number,
  renames: Renames | undefined,
  state: ShiftState,
): Generator<Buffer> {
  state.at = start;
  while (state.at < end) {
    // Room for at least the next line, however long.
    const next = buf.indexOf(NL, state.at);
    const out = Buffer.allocUnsafe(
      Math.max(Math.min(OUT_BYTES, (end - state.at) * 8 + 64), next - state.at + grow + 64),
    );
    let written: number;
    try {
      written = shiftLines(buf, end, own, offsets, out, grow, renames, state);
    } catch (err) {
      // state.at is still the start of the line that failed.
      throw new Error(`${state.file} line ${state.lines + 1}: ${(err as Error).message}`, { cause: err });
    }
    yield out.subarray(0, written);
  }
}

/**
 * Shifts the whole lines in buf[state.at, end) into `out`, as many as it has room for; returns the end of what it
 * wrote, and leaves `state.at` at the first line not written (kept up to date in the loop). Nothing follows the loop
 * but the return of a number: V8 compiles this function while the loop runs (on-stack replacement), before anything
 * after the loop has run, and code after it with no type feedback (`out.subarray`, once here) made that compiled code
 * fall back to the interpreter at the end of every call, so each call ran its first thousands of lines unoptimised
 * again.
 */
function shiftLines(
  buf: Buffer,
  end: number,
  own: number,
  offsets: readonly number[],
  out: Buffer,
  grow: number,
  renames: Renames | undefined,
  state: ShiftState,
) {
  let o = 0;
  let s = state.at;
  while (s < end) {
    const e = buf.indexOf(NL, s); // the line is [s, e)
    if (o + (e - s) + grow + 2 > out.length) break;
    const fast =
      buf[s] === 0x5b
        ? shortDuplicate(buf, s, e, own, offsets, out, o, renames)
        : shiftDuplicate(buf, s, e, own, offsets, out, o, renames);
    if (fast >= 0) {
      o = fast;
      s = e + 1;
      state.at = s;
      state.lines++;
      continue;
    }
    if (buf[s] === 0x5b)
      throw new Error(
        `a chunk's reject line is not a RejectLine nor a short duplicate: ${buf.toString('utf8', s, Math.min(e, s + 200))}`,
      );
    let p = s; // bytes of the line before p are written
    if (e - s > DUPLICATE_HEAD.length && startsWith(buf, s, DUPLICATE_HEAD)) {
      const at = s + DUPLICATE_HEAD.length;
      let q = at;
      let n = 0;
      while (q < e && buf[q]! >= 0x30 && buf[q]! <= 0x39) n = n * 10 + buf[q++]! - 0x30;
      if (q > at) {
        let by = own;
        let skip = q;
        if (startsWith(buf, q, OF_CHUNK)) {
          let r = q + OF_CHUNK.length;
          let c = 0;
          while (r < e && buf[r]! >= 0x30 && buf[r]! <= 0x39) c = c * 10 + buf[r++]! - 0x30;
          by = offsetOf(offsets, c);
          skip = r;
        }
        o = copy(buf, p, at, out, o);
        o = writeDecimal(out, o, renames && buf[skip] === 0x22 ? renamed(renames, n + by) : n + by);
        p = skip;
      }
    }
    const key = lastIndexOf(buf, LINE_KEY, p, e);
    if (key !== -1) {
      const at = key + LINE_KEY.length;
      let q = at;
      let n = 0;
      while (q < e && buf[q]! >= 0x30 && buf[q]! <= 0x39) n = n * 10 + buf[q++]! - 0x30;
      if (q > at) {
        o = copy(buf, p, at, out, o);
        o = writeDecimal(out, o, n + own);
        p = q;
      }
    }
    o = copy(buf, p, e + 1, out, o);
    s = e + 1;
    state.at = s;
    state.lines++;
  }
  return o;
}

/**
 * A duplicate in short (ChunkDuplicateLine), `[N,M]` or `[N,C,M]`, written out into `out` at `o` as the RejectLine it
 * stands for, renumbered: the new end in `out`, or -1 when the line is not of that shape.
 */
function shortDuplicate(
  buf: Buffer,
  s: number,
  e: number,
  own: number,
  offsets: readonly number[],
  out: Buffer,
  o: number,
  renames: Renames | undefined,
): number {
  if (buf[e - 1] !== 0x5d) return -1;
  // Up to three numbers, each followed by a comma or, the last, by the closing bracket.
  let q = s + 1;
  let count = 0;
  let a = 0;
  let b = 0;
  let c = 0;
  while (q < e) {
    const from = q;
    let n = 0;
    while (buf[q]! >= 0x30 && buf[q]! <= 0x39) n = n * 10 + buf[q++]! - 0x30;
    if (q === from || count === 3) return -1;
    if (count === 0) a = n;
    else if (count === 1) b = n;
    else c = n;
    count++;
    if (buf[q] === 0x2c) q++;
    else if (q === e - 1) break;
    else return -1;
  }
  if (count < 2 || q !== e - 1) return -1;
  let named: number;
  let line: number;
  if (count === 2) {
    named = a + own;
    line = b;
  } else {
    named = a + offsetOf(offsets, b);
    line = c;
  }
  return writeDuplicate(out, o, named, line + own, renames);
}

/**
 * A duplicate's line as transform writes it, `{"reason":"filtered:duplicate","detail":"same text as line N[ of chunk
 * C]","line":M}`, renumbered into `out` at `o` without copying it piece by piece (most reject lines of a repetitive
 * corpus are these): the new end in `out`, or -1 for any other line, which the general loop handles.
 */
function shiftDuplicate(
  buf: Buffer,
  s: number,
  e: number,
  own: number,
  offsets: readonly number[],
  out: Buffer,
  o: number,
  renames: Renames | undefined,
): number {
  if (e - s <= DUPLICATE_HEAD.length || !startsWith(buf, s, DUPLICATE_HEAD)) return -1;
  let q = s + DUPLICATE_HEAD.length;
  const at = q;
  let n = 0;
  while (q < e && buf[q]! >= 0x30 && buf[q]! <= 0x39) n = n * 10 + buf[q++]! - 0x30;
  if (q === at) return -1;
  let by = own;
  if (startsWith(buf, q, OF_CHUNK)) {
    q += OF_CHUNK.length;
    const cs = q;
    let c = 0;
    while (q < e && buf[q]! >= 0x30 && buf[q]! <= 0x39) c = c * 10 + buf[q++]! - 0x30;
    if (q === cs) return -1;
    by = offsetOf(offsets, c);
  }
  if (!startsWith(buf, q, DETAIL_END_LINE_KEY)) return -1;
  q += DETAIL_END_LINE_KEY.length;
  const ms = q;
  let m = 0;
  while (q < e && buf[q]! >= 0x30 && buf[q]! <= 0x39) m = m * 10 + buf[q++]! - 0x30;
  if (q === ms || q + 1 !== e || buf[q] !== 0x7d) return -1;
  return writeDuplicate(out, o, n + by, m + own, renames);
}

/**
 * Writes `{"reason":"filtered:duplicate","detail":"same text as line N","line":M}` and its line break into `out` at
 * `o`, N renamed when `renames` says so (numbers of the file); returns the new end.
 */
function writeDuplicate(out: Buffer, o: number, named: number, line: number, renames: Renames | undefined): number {
  out.set(DUPLICATE_HEAD, o);
  o = writeDecimal(out, o + DUPLICATE_HEAD.length, renames ? renamed(renames, named) : named);
  out.set(DETAIL_END_LINE_KEY, o);
  o = writeDecimal(out, o + DETAIL_END_LINE_KEY.length, line);
  out[o] = 0x7d;
  out[o + 1] = NL;
  return o + 2;
}

/** The line a duplicate names once renamed: where the record at line `n` of the file stays (see Renames). */
function renamed(renames: Renames, n: number): number {
  const stays = renames.staysAt(LINE, n, -1);
  if (!stays) return n;
  if (stays.inChunk) renames.renamedInChunk++;
  return stays.place;
}

/** The line offset of the earlier chunk a duplicate's line names. */
function offsetOf(offsets: readonly number[], chunk: number): number {
  const offset = offsets[chunk];
  if (offset === undefined) throw new Error(`a reject line names chunk ${chunk}, which the run does not have`);
  return offset;
}

function startsWith(buf: Buffer, at: number, prefix: Buffer): boolean {
  if (at + prefix.length > buf.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** The last `needle` in buf[from, to), searched from the end: the key is near the end of a reject line. */
function lastIndexOf(buf: Buffer, needle: Buffer, from: number, to: number): number {
  for (let i = to - needle.length; i >= from; i--) {
    if (buf[i] === needle[0] && startsWith(buf, i, needle)) return i;
  }
  return -1;
}

function copy(src: Buffer, from: number, to: number, out: Buffer, o: number): number {
  if (to - from > 64) return o + src.copy(out, o, from, to);
  for (let i = from; i < to; i++) out[o++] = src[i]!;
  return o;
}
