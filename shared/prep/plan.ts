import type { Readable } from 'node:stream';
import { parquetMetadataAsync, type AsyncBuffer } from 'hyparquet';
import type { PrepConfig } from '../config/run-config';
import type { ChunkPlan } from '../messages/pipeline';
import { parseDelimited } from './csv';
import { InputError } from './errors';
import { rowGroupRanges } from './read';
import { makeSplitter, type RawRecord, type TextFormat } from './scan';
import { checkNotUtf16, isRangeable, logicalStream, sniffTextFormat, type Compression, type Format } from './source';
import { Utf8Validator } from './utf8';

export interface Plan {
  format: Format;
  compression: Compression;
  /** The encoding converted from, when not UTF-8. */
  encoding?: string;
  chunks: ChunkPlan[];
  /** Records found (data rows for CSV/TSV; rows for Parquet). */
  records: number;
  /** Bytes of the UTF-8 input (after gunzip and conversion); the Parquet file's size. */
  bytes: number;
  columns?: string[];
}

const SNIFF_BYTES = 64 * 1024;

/**
 * The size chunks are cut to: `chunkBytes`, or for a file that would make fewer than `fanOut` chunks of it, a
 * `fanOut`th of the file but no less than `minChunkBytes`, when each chunk can be read by itself (`rangeable`).
 */
export function chunkTarget(prep: PrepConfig, bytes: number, rangeable: boolean): number {
  if (!rangeable) return prep.chunkBytes;
  return Math.min(prep.chunkBytes, Math.max(prep.minChunkBytes, Math.ceil(bytes / prep.fanOut)));
}

/**
 * Reads a text input once, from start to end, to check it (UTF-8, structure) and to cut it on record boundaries into
 * chunks of the size chunkTarget gives for the object's `size`. A broken file throws InputError naming the problem and
 * where it is; a bad record does not (transform rejects it with a reason, and the counts keep it).
 */
export async function planText(
  raw: Readable,
  opts: { file: string; key: string; prep: PrepConfig; size: number; compression: Compression; encoding?: string },
): Promise<Plan> {
  const { prep, file } = opts;
  const chunkBytes = chunkTarget(prep, opts.size, isRangeable({ compression: opts.compression }, opts.encoding));
  const logical = logicalStream(raw, opts.compression, opts.encoding);
  const validator = opts.encoding ? undefined : new Utf8Validator(file);
  let format: TextFormat | undefined;
  let splitter: ReturnType<typeof makeSplitter> | undefined;
  const head: Buffer[] = [];
  let headBytes = 0;
  const chunks: ChunkPlan[] = [];
  let chunkStart = 0;
  let chunkFirst = 0;
  let records = 0;
  let columns: string[] | undefined;

  const onRecord = (r: RawRecord) => {
    if ((format === 'csv' || format === 'tsv') && !columns) {
      const fields = parseDelimited(r.bytes.toString('utf8'), format === 'tsv' ? '\t' : ',');
      if (!Array.isArray(fields)) throw new InputError(`the header (line ${r.line}) is malformed: ${fields.error}`, { file, line: r.line });
      columns = fields;
      checkColumns(columns, prep, file);
      return;
    }
    records++;
    if (r.pos - chunkStart >= chunkBytes && records > 1) {
      chunks.push({ index: chunks.length, total: 1, format: format!, compression: opts.compression, start: chunkStart, end: r.pos, firstLine: chunkFirst });
      chunkStart = r.pos;
      chunkFirst = format === 'json' ? r.index : r.line;
    }
  };

  const begin = (first: Buffer) => {
    if (!opts.encoding) checkNotUtf16(first, file);
    format = prep.format === 'auto' ? sniffTextFormat(first, opts.key) : (prep.format as TextFormat);
    chunkFirst = format === 'json' ? 0 : 1;
    splitter = makeSplitter(format, { mode: 'file', last: true, file });
  };
  const feed = (buf: Buffer) => {
    validator?.push(buf);
    splitter!.push(buf, onRecord);
  };

  for await (const buf of logical) {
    if (!splitter) {
      head.push(buf as Buffer);
      headBytes += (buf as Buffer).length;
      if (headBytes < SNIFF_BYTES) continue;
      begin(Buffer.concat(head));
      head.forEach(feed);
      continue;
    }
    feed(buf as Buffer);
  }
  if (!splitter) {
    if (headBytes === 0) throw new InputError('the file is empty', { file });
    begin(Buffer.concat(head));
    head.forEach(feed);
  }
  validator?.end();
  splitter!.end(onRecord);
  if (records === 0) throw new InputError(columns ? 'the file has a header but no data rows' : 'the file holds no records', { file });
  const bytes = splitter!.position;
  chunks.push({ index: chunks.length, total: 1, format: format!, compression: opts.compression, start: chunkStart, end: bytes, firstLine: chunkFirst });
  return { format: format!, compression: opts.compression, encoding: opts.encoding, chunks: withTotal(chunks), records, bytes, columns };
}

/**
 * Cuts a Parquet file into chunks of whole row groups of about `chunkBytes` (uncompressed) each; or, for a file that
 * would make fewer than `fanOut` chunks of it, about a `fanOut`th of it but no less than `minChunkBytes` (each chunk
 * reads only its own row groups).
 */
export async function planParquet(file: AsyncBuffer, opts: { file: string; prep: PrepConfig; compression: Compression }): Promise<Plan> {
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw new InputError(`the Parquet file cannot be read: ${(err as Error).message}`, { file: opts.file });
  }
  const columns = metadata.schema.slice(1).filter((s) => !s.num_children).map((s) => s.name);
  checkColumns(columns, opts.prep, opts.file);
  const ranges = rowGroupRanges(metadata);
  const chunkBytes = chunkTarget(opts.prep, ranges.reduce((n, r) => n + r.bytes, 0), opts.compression === 'none');
  const chunks: ChunkPlan[] = [];
  let group: number[] = [];
  let bytes = 0;
  let first = 0;
  ranges.forEach((r, i) => {
    if (group.length && bytes + r.bytes > chunkBytes) {
      chunks.push({ index: chunks.length, total: 1, format: 'parquet', compression: opts.compression, rowGroups: group, firstLine: first });
      group = [];
      bytes = 0;
      first = r.start;
    }
    group.push(i);
    bytes += r.bytes;
  });
  const records = Number(metadata.num_rows);
  if (records === 0 || !group.length) throw new InputError('the Parquet file has no rows', { file: opts.file });
  chunks.push({ index: chunks.length, total: 1, format: 'parquet', compression: opts.compression, rowGroups: group, firstLine: first });
  return { format: 'parquet', compression: opts.compression, chunks: withTotal(chunks), records, bytes: file.byteLength, columns };
}

const withTotal = (chunks: ChunkPlan[]) => chunks.map((c) => ({ ...c, total: chunks.length }));

/** For tabular input, a column the template needs and the header lacks fails the run at once, naming it. */
function checkColumns(columns: string[], prep: PrepConfig, file: string) {
  const t = prep.template;
  const needed = t.kind === 'text' ? [t.textField] : t.kind === 'fields' ? [t.promptField, t.completionField] : [t.instructionField, t.outputField];
  for (const name of needed) {
    if (!columns.includes(name)) {
      throw new InputError(`column "${name}" (prep.template) is not in the file; its columns are: ${columns.join(', ')}`, { file, line: 1, field: name });
    }
  }
}
