import { PassThrough, Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type iconvLite from 'iconv-lite';
import type { ChunkPlan } from '../messages/pipeline';
import { InputError } from './errors';
import type { TextFormat } from './scan';
import { detectUtf16 } from './utf8';

export type Compression = 'none' | 'gzip';
export type Format = TextFormat | 'parquet';

export const isGzip = (head: Buffer) => head[0] === 0x1f && head[1] === 0x8b;
export const isParquet = (head: Buffer) => head.subarray(0, 4).toString('latin1') === 'PAR1';

/**
 * iconv-lite, loaded when an input first names an encoding: its tables are most of its code, which a function would
 * otherwise compile at every cold start for the few inputs that are not UTF-8. The functions' bundles keep it in a file
 * of its own beside the handler (scripts/esbuild-plugins.js, separateLibraries).
 */
let iconvLoading: Promise<typeof iconvLite> | undefined;
const loadIconv = () => (iconvLoading ??= import('iconv-lite').then((m) => m.default));

/** Whether an encoding name is one we can convert from (iconv-lite's names: shift_jis, cp932, euc-jp, utf-16le...). */
export async function checkEncoding(encoding: string | undefined): Promise<string | undefined> {
  if (!encoding) return undefined;
  if (!(await loadIconv()).encodingExists(encoding))
    throw new InputError(
      `prep.encoding "${encoding}" is not an encoding this pipeline can convert from`,
      {},
      'set prep.encoding to an encoding name iconv-lite knows (e.g. shift_jis, cp932, euc-jp, utf-16le), or remove it for UTF-8',
    );
  return /^utf-?8$/i.test(encoding) ? undefined : encoding;
}

/**
 * The input as UTF-8 bytes: gunzipped if gzip, converted from `encoding` if one is named. Offsets in this stream are
 * the ones chunk plans and record positions use.
 */
export async function logicalStream(
  raw: Readable,
  compression: Compression,
  encoding: string | undefined,
): Promise<Readable> {
  let s: Readable = raw;
  if (compression === 'gzip') s = pipeOn(s, createGunzip());
  if (encoding) {
    const iconv = await loadIconv();
    s = pipeOn(pipeOn(s, iconv.decodeStream(encoding)), iconv.encodeStream('utf8'));
  }
  return s;
}

/** Pipes and forwards errors, so a consumer of the last stream sees a failure of any stage. */
function pipeOn<T extends NodeJS.ReadWriteStream>(from: Readable, to: T): Readable {
  from.on('error', (err) => (to as unknown as Readable).destroy(err));
  return from.pipe(to) as unknown as Readable;
}

/** Bytes [start, end) of a stream that starts at offset 0; stops reading the source once `end` is passed. */
export function sliceStream(source: Readable, start: number, end: number | undefined): Readable {
  let at = 0;
  const out = new PassThrough();
  const slicer = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const from = Math.max(0, start - at);
      const to = end === undefined ? chunk.length : Math.min(chunk.length, end - at);
      at += chunk.length;
      if (to > from) this.push(chunk.subarray(from, to));
      if (end !== undefined && at >= end) {
        this.push(null);
        source.unpipe(this);
        source.destroy();
      }
      done();
    },
  });
  source.on('error', (err) => out.destroy(err));
  return source.pipe(slicer).pipe(out);
}

/** Whether a chunk can be read with a ranged GET of the stored bytes (no gzip, no conversion). */
export const isRangeable = (plan: Pick<ChunkPlan, 'compression'>, encoding: string | undefined) =>
  plan.compression === 'none' && !encoding;

/**
 * Formats told by the first bytes of the (decompressed, decoded) input, with the key's extension as a hint for CSV vs
 * TSV.
 */
export function sniffTextFormat(head: Buffer, key: string): TextFormat {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && (head[i] === 32 || head[i] === 9 || head[i] === 10 || head[i] === 13)) i++;
  const c = head[i];
  if (c === 0x5b) return 'json';
  if (c === 0x7b) return 'jsonl';
  const lower = key.toLowerCase().replace(/\.gz$/, '');
  if (lower.endsWith('.tsv')) return 'tsv';
  if (lower.endsWith('.csv')) return 'csv';
  const firstLine = head.subarray(i, head.indexOf(10, i) === -1 ? head.length : head.indexOf(10, i)).toString('utf8');
  const tabs = firstLine.split('\t').length - 1;
  const commas = firstLine.split(',').length - 1;
  if (tabs === 0 && commas === 0) {
    throw new InputError(
      `cannot tell the format: the file does not start with '[' or '{', and its first line has no comma or tab`,
      { line: 1 },
      'set prep.format (jsonl, json, csv, tsv, parquet) in the run configuration',
    );
  }
  return tabs > commas ? 'tsv' : 'csv';
}

/**
 * Refuses UTF-16 input unless an encoding to convert from is named: the error says what it looks like and what to set.
 */
export function checkNotUtf16(head: Buffer, file: string) {
  const utf16 = detectUtf16(head);
  if (utf16) {
    throw new InputError(
      `the file is ${utf16.toUpperCase()}${head[0] === 0xff || head[0] === 0xfe ? ' (it starts with a UTF-16 byte-order mark)' : ' (NUL bytes every other byte)'}, not UTF-8: set prep.encoding to "${utf16}" in the run configuration to convert it`,
      { file, line: 1, offset: 0 },
      `set prep.encoding to "${utf16}"`,
    );
  }
}
