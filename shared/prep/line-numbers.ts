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
 * so by transform; the chunk's name goes). Works on the bytes as transform wrote them: `,"line":` cannot occur inside
 * a JSON string, where every quote is escaped, so the one there is the key. A plain loop over the bytes: a
 * repetitive corpus has hundreds of thousands of these lines, too many for a few library calls each.
 *
 * With `renames`, a duplicate whose record split dropped is named by the record that stays, as mergeRejects would
 * rename it (the same bytes), while its number is at hand: mergeRejects then need not read every line again. Only
 * for records that are not pieces (a piece's duplicate names its piece, which mergeRejects leaves out).
 */
export async function* shiftLineNumbers(
  source: AsyncIterable<Buffer>,
  chunk: number,
  offsets: readonly number[],
  renames?: Renames,
): AsyncGenerator<Buffer> {
  const own = offsets[chunk];
  if (own === undefined) throw new Error(`no line offset for chunk ${chunk}`);
  const grow = 2 * String(Math.max(...offsets)).length; // two numbers a line, each longer by at most this
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
      yield shifted(line, 0, line.length, own, offsets, grow, renames);
      from = nl + 1;
    }
    const last = piece.lastIndexOf(NL);
    if (last < from) {
      carry = Buffer.from(piece.subarray(from));
      continue;
    }
    if (last + 1 < piece.length) carry = Buffer.from(piece.subarray(last + 1));
    yield shifted(piece, from, last + 1, own, offsets, grow, renames);
  }
  if (carry?.length)
    yield shifted(Buffer.concat([carry, Buffer.from([NL])]), 0, carry.length + 1, own, offsets, grow, renames);
}

/** The whole lines in buf[start, end) (each ending with a line break), shifted into a new buffer. */
function shifted(
  buf: Buffer,
  start: number,
  end: number,
  own: number,
  offsets: readonly number[],
  grow: number,
  renames: Renames | undefined,
) {
  // Every reject line is longer than 32 bytes, and grows by at most `grow`.
  const out = Buffer.allocUnsafe(end - start + Math.ceil((end - start) / 32) * grow + 64);
  return out.subarray(0, shiftLines(buf, start, end, own, offsets, out, renames));
}

/**
 * Shifts the whole lines in buf[start, end) into `out`; returns the end of what it wrote. Nothing follows the loop but
 * the return of a number: V8 compiles this function while the loop runs (on-stack replacement), before anything after
 * the loop has run, and code after it with no type feedback (`out.subarray`, once here) made that compiled code fall
 * back to the interpreter at the end of every call, so each call ran its first thousands of lines unoptimised again.
 */
function shiftLines(
  buf: Buffer,
  start: number,
  end: number,
  own: number,
  offsets: readonly number[],
  out: Buffer,
  renames: Renames | undefined,
) {
  let o = 0;
  let s = start;
  while (s < end) {
    const e = buf.indexOf(NL, s); // the line is [s, e)
    const fast = shiftDuplicate(buf, s, e, own, offsets, out, o, renames);
    if (fast >= 0) {
      o = fast;
      s = e + 1;
      continue;
    }
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
          const other = offsets[c];
          if (other === undefined) throw new Error(`a reject line names chunk ${c}, which the run does not have`);
          by = other;
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
  }
  return o;
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
    const other = offsets[c];
    if (other === undefined) throw new Error(`a reject line names chunk ${c}, which the run does not have`);
    by = other;
  }
  if (!startsWith(buf, q, DETAIL_END_LINE_KEY)) return -1;
  q += DETAIL_END_LINE_KEY.length;
  const ms = q;
  let m = 0;
  while (q < e && buf[q]! >= 0x30 && buf[q]! <= 0x39) m = m * 10 + buf[q++]! - 0x30;
  if (q === ms || q + 1 !== e || buf[q] !== 0x7d) return -1;
  out.set(DUPLICATE_HEAD, o);
  o = writeDecimal(out, o + DUPLICATE_HEAD.length, renames ? renamed(renames, n + by) : n + by);
  out.set(DETAIL_END_LINE_KEY, o);
  o = writeDecimal(out, o + DETAIL_END_LINE_KEY.length, m + own);
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
