import { isUtf8 } from 'node:buffer';
import { InputError } from './errors';

const EMPTY = Buffer.alloc(0);

/**
 * Checks that a stream of bytes is UTF-8, buffer by buffer (a character may straddle two buffers), and says where it
 * is not, with a guess at what the file is instead: Japanese data sets often come as Shift_JIS or UTF-16.
 */
export class Utf8Validator {
  private carry: Buffer = EMPTY;
  private offset = 0;
  private line = 1;

  /**
   * `offset`: where in the file the first byte pushed is. `countLines: false` skips counting lines on the way: a
   * failure then names the byte offset, but not the line.
   */
  constructor(
    private readonly file?: string,
    private readonly opts: { countLines?: boolean; offset?: number } = {},
  ) {
    this.offset = opts.offset ?? 0;
  }

  push(chunk: Buffer): void {
    let s = 0;
    if (this.carry.length) {
      // The character cut at the end of the last buffer is completed and checked alone, so the buffer is not copied.
      const c = this.carry[0]!;
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      s = Math.min(need - this.carry.length, chunk.length);
      const head = Buffer.concat([this.carry, chunk.subarray(0, s)]);
      if (head.length < need) {
        this.carry = head;
        return;
      }
      if (!isUtf8(head)) this.fail(head);
      this.offset += head.length;
      this.carry = EMPTY;
    }
    const rest = s ? chunk.subarray(s) : chunk;
    const cut = completeLength(rest);
    const whole = rest.subarray(0, cut);
    if (!isUtf8(whole)) this.fail(whole);
    if (this.opts.countLines !== false) this.countLines(whole);
    this.offset += cut;
    this.carry = cut < rest.length ? Buffer.from(rest.subarray(cut)) : EMPTY;
  }

  end(): void {
    if (this.carry.length) this.fail(this.carry);
  }

  private countLines(b: Buffer) {
    let i = -1;
    while ((i = b.indexOf(10, i + 1)) !== -1) this.line++;
  }

  private fail(b: Buffer): never {
    const bad = firstInvalid(b);
    this.countLines(b.subarray(0, bad));
    const at = this.offset + bad;
    const bytes = [...b.subarray(bad, bad + 4)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    const counted = this.opts.countLines !== false;
    throw new InputError(
      `the file is not valid UTF-8: invalid byte sequence (${bytes}) at ${counted ? `line ${this.line}, ` : ''}byte offset ${at}; ${guessEncoding(b.subarray(bad))}`,
      counted ? { file: this.file, line: this.line, offset: at } : { file: this.file, offset: at },
      "set prep.encoding to the file's encoding (e.g. shift_jis or cp932 for Japanese Windows files), or save it as UTF-8",
    );
  }
}

/** A guess from the bytes at a failure, for the error message. */
export function guessEncoding(b: Buffer): string {
  const c0 = b[0] ?? 0;
  const c1 = b[1] ?? 0;
  const sjisLead = (c0 >= 0x81 && c0 <= 0x9f) || (c0 >= 0xe0 && c0 <= 0xfc);
  if (sjisLead && c1 >= 0x40 && c1 <= 0xfc && c1 !== 0x7f) {
    return 'it looks like Shift_JIS: set prep.encoding to "shift_jis" (or "cp932") in the run configuration to convert it';
  }
  return 'name its encoding in prep.encoding of the run configuration to convert it';
}

/** Detects UTF-16 by its byte-order mark or by NUL bytes every other byte, which UTF-8 text never has. */
export function detectUtf16(head: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  const n = Math.min(head.length, 512) & ~1;
  if (n < 4) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) evenNul++;
    if (head[i + 1] === 0) oddNul++;
  }
  if (oddNul > n / 8 && evenNul === 0) return 'utf-16le';
  if (evenNul > n / 8 && oddNul === 0) return 'utf-16be';
  return undefined;
}

/** The length of `b` without a trailing incomplete multi-byte character. */
function completeLength(b: Buffer): number {
  const n = b.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const c = b[n - back]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

function firstInvalid(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const need =
      c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (need === 0 || i + need > b.length) return i;
    if (!isUtf8(b.subarray(i, i + need))) return i;
    i += need;
  }
  return b.length;
}
