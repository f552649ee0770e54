import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/** Lines of a UTF-8 stream, without the newline (and without a trailing CR). */
export async function* readLines(stream: Readable): AsyncGenerator<string> {
  let carry = '';
  for await (const buf of stream) {
    const text = carry + (buf as Buffer).toString('utf8');
    let s = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', s)) !== -1) {
      const line = text.charCodeAt(nl - 1) === 13 ? text.slice(s, nl - 1) : text.slice(s, nl);
      if (line) yield line;
      s = nl + 1;
    }
    carry = text.slice(s);
  }
  if (carry) yield carry;
}

export interface WrittenFile {
  key: string;
  sha256: string;
  bytes: number;
  records: number;
}

/**
 * Writes lines to a stream (an S3 upload, a file), hashing and counting what it writes. Lines are batched into
 * buffers of about 256 KB; `write` returns a promise only when the stream asks the writer to wait.
 */
export class LineWriter {
  private readonly hash = createHash('sha256');
  private parts: string[] = [];
  private partChars = 0;
  private bytes = 0;
  private records = 0;

  constructor(
    readonly key: string,
    private readonly stream: Writable,
    private readonly done: Promise<void>,
  ) {}

  write(line: string): Promise<void> | undefined {
    this.parts.push(line, '\n');
    this.partChars += line.length + 1;
    this.records++;
    return this.partChars >= 256 * 1024 ? this.flush() : undefined;
  }

  private flush(): Promise<void> | undefined {
    if (!this.parts.length) return undefined;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.partChars = 0;
    this.hash.update(buf);
    this.bytes += buf.length;
    return this.stream.write(buf) ? undefined : once(this.stream, 'drain').then(() => undefined);
  }

  /** Appends a stream of whole lines (another LineWriter's output) as bytes, without decoding it. */
  async copyFrom(stream: Readable): Promise<void> {
    await this.flush();
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      let i = -1;
      while ((i = buf.indexOf(10, i + 1)) !== -1) this.records++;
      this.hash.update(buf);
      this.bytes += buf.length;
      if (!this.stream.write(buf)) await once(this.stream, 'drain');
    }
  }

  async close(): Promise<WrittenFile> {
    await this.flush();
    this.stream.end();
    await this.done;
    return { key: this.key, sha256: this.hash.digest('hex'), bytes: this.bytes, records: this.records };
  }
}
