import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** Lines of a UTF-8 stream, without the newline (and without a trailing CR). */
export async function* readLines(stream: Readable): AsyncGenerator<string> {
  let carry = '';
  // A character may straddle two buffers: the decoder holds its first bytes until the rest arrive.
  const decoder = new StringDecoder('utf8');
  for await (const buf of stream) {
    const text = carry + decoder.write(buf as Buffer);
    let s = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', s)) !== -1) {
      const line = text.charCodeAt(nl - 1) === 13 ? text.slice(s, nl - 1) : text.slice(s, nl);
      if (line) yield line;
      s = nl + 1;
    }
    carry = text.slice(s);
  }
  carry += decoder.end();
  if (carry) yield carry;
}

/**
 * Lines of a stream as bytes, without the newline (and without a trailing CR), for lines that need not be decoded
 * (records copied as they are). Each line is handed to `onLine` before the next buffer is read; a line may be a view of
 * the buffer, valid only during the call.
 */
export async function eachLineBytes(
  stream: Readable,
  onLine: (line: Buffer) => Promise<void> | undefined,
): Promise<void> {
  let carry: Buffer | undefined;
  const emit = async (b: Buffer, s: number, nl: number) => {
    const e = nl > s && b[nl - 1] === 13 ? nl - 1 : nl;
    if (e > s) await onLine(b.subarray(s, e));
  };
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    let s = 0;
    let nl = buf.indexOf(10);
    if (carry) {
      if (nl === -1) {
        carry = Buffer.concat([carry, buf]);
        continue;
      }
      const line = Buffer.concat([carry, buf.subarray(0, nl + 1)]);
      carry = undefined;
      await emit(line, 0, line.length - 1);
      s = nl + 1;
      nl = buf.indexOf(10, s);
    }
    for (; nl !== -1; nl = buf.indexOf(10, s)) {
      const e = nl > s && buf[nl - 1] === 13 ? nl - 1 : nl;
      if (e > s) {
        const wait = onLine(buf.subarray(s, e));
        if (wait) await wait;
      }
      s = nl + 1;
    }
    if (s < buf.length) carry = Buffer.from(buf.subarray(s));
  }
  if (carry?.length) {
    const e = carry[carry.length - 1] === 13 ? carry.length - 1 : carry.length;
    if (e > 0) await onLine(carry.subarray(0, e));
  }
}

/** Writes the decimal digits of the non-negative integer `n` into `out` at `o`: the new end. */
export function writeDecimal(out: Buffer, o: number, n: number): number {
  if (n < 10) {
    out[o] = 0x30 + n;
    return o + 1;
  }
  let digits = 0;
  for (let m = n; m > 0; m = Math.floor(m / 10)) digits++;
  for (let i = digits - 1, m = n; i >= 0; i--, m = Math.floor(m / 10)) out[o + i] = 0x30 + (m % 10);
  return o + digits;
}

export interface WrittenLines {
  key: string;
  bytes: number;
  records: number;
}

export interface WrittenFile extends WrittenLines {
  sha256: string;
}

/**
 * Writes lines to a stream (an S3 upload, a file), counting what it writes. Lines are encoded straight into buffers
 * of about 256 KB; `write` returns a promise only when the stream asks the writer to wait.
 */
export class LineWriter {
  private bytes = 0;
  private records = 0;
  private pending = Buffer.allocUnsafe(256 * 1024);
  private pendingBytes = 0;

  constructor(
    readonly key: string,
    private readonly stream: Writable,
    private readonly done: Promise<void>,
  ) {}

  write(line: string): Promise<void> | undefined {
    const wait = this.room(line.length * 3 + 1);
    this.pendingBytes += this.pending.write(line, this.pendingBytes, 'utf8');
    this.pending[this.pendingBytes++] = 10;
    return wait;
  }

  /** Writes a line given as UTF-8 bytes (a record copied without decoding it); the line is copied at once. */
  writeBytes(line: Buffer): Promise<void> | undefined {
    const wait = this.room(line.length + 1);
    line.copy(this.pending, this.pendingBytes);
    this.pending[this.pendingBytes + line.length] = 10;
    this.pendingBytes += line.length + 1;
    return wait;
  }

  /**
   * Writes `lines` whole lines given as UTF-8 bytes, each with its line break (lines copied from another file). The
   * caller does not change the bytes afterwards.
   */
  writeLines(block: Buffer, lines: number): Promise<void> | undefined {
    if (lines === 0) return undefined;
    if (block.length >= 64 * 1024) {
      // A large block goes to the stream as it is, after what is pending, instead of being copied; it is not reused.
      this.records += lines;
      const wait = this.flush();
      return wait ? wait.then(() => this.writeBuffer(block)) : this.writeBuffer(block);
    }
    const wait = this.room(block.length);
    this.records += lines - 1;
    block.copy(this.pending, this.pendingBytes);
    this.pendingBytes += block.length;
    return wait;
  }

  /**
   * Writes a line made of UTF-8 bytes, a non-negative integer in decimal and one last byte (`…,"line":` 12 `}`): a
   * line whose head repeats from line to line, kept as bytes by the caller.
   */
  writeHeadInt(head: Buffer, n: number, last: number): Promise<void> | undefined {
    const wait = this.room(head.length + 18);
    const out = this.pending;
    // TypedArray's set: a built-in copy, about a quarter of a byte loop's time for a head of 80 bytes, and cheaper
    // than Buffer's copy, which crosses into C++.
    out.set(head, this.pendingBytes);
    let o = writeDecimal(out, this.pendingBytes + head.length, n);
    out[o++] = last;
    out[o++] = 10;
    this.pendingBytes = o;
    return wait;
  }

  /**
   * Writes a line made of `head` (UTF-8 bytes, kept by the caller), the non-negative integer `n` in decimal and
   * `src[from, e)`: a line of another file with its head and a number in it replaced (split's renamed duplicates).
   */
  writeHeadIntTail(head: Buffer, n: number, src: Buffer, from: number, e: number): Promise<void> | undefined {
    const wait = this.room(head.length + 16 + e - from + 1);
    const out = this.pending;
    out.set(head, this.pendingBytes); // see writeHeadInt
    let o = writeDecimal(out, this.pendingBytes + head.length, n);
    // Byte by byte: the tail is a dozen bytes (`","line":12}`), for which a library copy costs more.
    for (let i = from; i < e; i++) out[o++] = src[i]!;
    out[o++] = 10;
    this.pendingBytes = o;
    return wait;
  }

  /** Writes a line made of a string and UTF-8 bytes (a kept line: its metadata, then its rendered record). */
  writeJoined(head: string, tail: Buffer): Promise<void> | undefined {
    const wait = this.room(head.length * 3 + tail.length + 1);
    this.pendingBytes += this.pending.write(head, this.pendingBytes, 'utf8');
    tail.copy(this.pending, this.pendingBytes);
    this.pending[this.pendingBytes + tail.length] = 10;
    this.pendingBytes += tail.length + 1;
    return wait;
  }

  /** Counts a line and makes room for up to `most` bytes of it, flushing the buffer when it is too full. */
  private room(most: number): Promise<void> | undefined {
    this.records++;
    if (this.pending.length - this.pendingBytes >= most) return undefined;
    const wait = this.flush();
    if (most > this.pending.length) this.pending = Buffer.allocUnsafe(most);
    return wait;
  }

  private flush(): Promise<void> | undefined {
    if (!this.pendingBytes) return undefined;
    const buf = this.pending.subarray(0, this.pendingBytes);
    // The stream keeps the buffer it was given: the next lines go to a new one.
    this.pending = Buffer.allocUnsafe(Math.max(256 * 1024, this.pending.length));
    this.pendingBytes = 0;
    return this.writeBuffer(buf);
  }

  /** Sees every buffer written, in order (HashingLineWriter hashes them). */
  protected written(_buf: Buffer): void {}

  private writeBuffer(buf: Buffer): Promise<void> | undefined {
    this.written(buf);
    this.bytes += buf.length;
    // A stream that failed (its upload did) emits no more events: waiting on it would wait for ever.
    if (this.stream.destroyed)
      return this.failure(this.stream.errored ?? new Error(`${this.key}: the write was abandoned`));
    return this.stream.write(buf)
      ? undefined
      : once(this.stream, 'drain').then(
          () => undefined,
          (err: unknown) => this.failure(err),
        );
  }

  /** A failed write: the store's own failure (the upload's) says more than the stream's, often only that it closed. */
  private failure(err: unknown): Promise<never> {
    return this.done.then(
      () => Promise.reject(err),
      (cause: unknown) => Promise.reject(cause),
    );
  }

  /** Gives the file up: its store stops writing it (an upload is aborted). */
  abort(err: Error): void {
    this.stream.destroy(err);
    this.done.catch(() => undefined);
  }

  /** Appends a stream of whole lines (another LineWriter's output) as bytes, without decoding it. */
  async copyFrom(stream: AsyncIterable<Buffer>): Promise<void> {
    await this.flush();
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      let i = -1;
      while ((i = buf.indexOf(10, i + 1)) !== -1) this.records++;
      const wait = this.writeBuffer(buf);
      if (wait) await wait;
    }
  }

  async close(): Promise<WrittenLines> {
    await this.flush();
    this.stream.end();
    await this.done;
    return { key: this.key, bytes: this.bytes, records: this.records };
  }
}

/** A LineWriter that also hashes what it writes: for the files a manifest describes by their SHA-256. */
export class HashingLineWriter extends LineWriter {
  private readonly hash = createHash('sha256');

  protected override written(buf: Buffer): void {
    this.hash.update(buf);
  }

  override async close(): Promise<WrittenFile> {
    return { ...(await super.close()), sha256: this.hash.digest('hex') };
  }
}
