import type { Readable } from 'node:stream';
import { parquetMetadataAsync, type AsyncBuffer } from 'hyparquet';
import { mapLimited } from '../aws/limited';
import type { IngestPlan } from '../artifacts/manifest';
import type { PrepConfig } from '../config/run-config';
import type { ChunkPlan, S3ObjectRef } from '../messages/pipeline';
import { parseDelimited } from './csv';
import { InputError } from './errors';
import { rowGroupRanges } from './read';
import { makeSplitter, type RawRecord, type TextFormat } from './scan';
import { checkNotUtf16, isRangeable, logicalStream, sniffTextFormat, type Compression, type Format } from './source';
import type { DatasetStore } from './ports';
import { Utf8Validator } from './utf8';

export interface Plan {
  format: Format;
  compression: Compression;
  /** The encoding converted from, when not UTF-8. */
  encoding?: string;
  chunks: ChunkPlan[];
  /**
   * Records found (data rows for CSV/TSV; rows for Parquet). Not known for JSON Lines planned by ranges, whose bytes
   * ingest does not read: the chunks' counts tell.
   */
  records?: number;
  /** Bytes of the UTF-8 input (after gunzip and conversion); the Parquet file's size. */
  bytes: number;
  columns?: string[];
}

/** What the run's prepare record and the manifest keep of a plan (its chunks go out as messages). */
export const ingestPlanOf = (plan: Plan): IngestPlan => ({
  format: plan.format,
  compression: plan.compression,
  encoding: plan.encoding ?? 'utf-8',
  bytes: plan.bytes,
  ...(plan.records !== undefined ? { records: plan.records } : {}),
  chunks: plan.chunks.length,
  ...(plan.columns ? { columns: plan.columns } : {}),
});

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
  const logical = await logicalStream(raw, opts.compression, opts.encoding);
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
      if (!Array.isArray(fields))
        throw new InputError(`the header (line ${r.line}) is malformed: ${fields.error}`, { file, line: r.line });
      columns = fields;
      checkColumns(columns, prep, file);
      return;
    }
    records++;
    if (r.pos - chunkStart >= chunkBytes && records > 1) {
      cutChunk(r.pos);
      chunkStart = r.pos;
      chunkFirst = format === 'json' ? r.index : r.line;
    }
  };
  const cutChunk = (end: number) =>
    chunks.push({
      index: chunks.length,
      total: 1,
      format: format!,
      compression: opts.compression,
      start: chunkStart,
      end,
      firstLine: chunkFirst,
    });

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
  if (records === 0)
    throw new InputError(columns ? 'the file has a header but no data rows' : 'the file holds no records', { file });
  const bytes = splitter!.position;
  cutChunk(bytes);
  return {
    format: format!,
    compression: opts.compression,
    encoding: opts.encoding,
    chunks: withTotal(chunks),
    records,
    bytes,
    columns,
  };
}

/**
 * JSON Lines too big for one chunk, stored uncompressed, is cut without reading it: at even byte offsets, each moved
 * to just past the next line break, found by reading a little there. Only the head is checked here (UTF-16, a
 * foreign encoding at its start, the format); each transform checks the UTF-8 of its own range. Nothing counts the
 * lines before a cut, so every chunk numbers its lines from its own start (`relativeLines`), and split adds the line
 * counts of the chunks before it. Undefined when the input is not JSON Lines or fits in one chunk: then the
 * whole file is read and checked once by planText.
 */
export async function planJsonLinesByRanges(
  datasets: DatasetStore,
  source: S3ObjectRef,
  opts: { file: string; prep: PrepConfig; size: number },
): Promise<Plan | undefined> {
  const { prep, size, file } = opts;
  const target = chunkTarget(prep, size, true);
  if (size <= target) return undefined;
  const head = await readRange(datasets, source, 0, Math.min(size, SNIFF_BYTES));
  checkNotUtf16(head, file);
  const format = prep.format === 'auto' ? sniffTextFormat(head, source.key) : prep.format;
  if (format !== 'jsonl') return undefined;
  new Utf8Validator(file).push(head); // a Shift_JIS file fails here, before any work is queued

  const n = Math.ceil(size / target);
  const wanted = Array.from({ length: n - 1 }, (_, k) => Math.round(((k + 1) * size) / n));
  const found = await mapLimited(wanted, PROBES_AT_ONCE, (at) => nextLineStart(datasets, source, at, size));
  const cuts = [...new Set(found.filter((c) => c > 0 && c < size))].sort((a, b) => a - b);
  const bounds = [0, ...cuts, size];
  const chunks: ChunkPlan[] = bounds.slice(0, -1).map((start, index) => ({
    index,
    total: bounds.length - 1,
    format: 'jsonl',
    compression: 'none',
    start,
    end: bounds[index + 1]!,
    firstLine: 1,
    relativeLines: true as const,
  }));
  return { format: 'jsonl', compression: 'none', chunks, bytes: size };
}

const PROBE_BYTES = 64 * 1024;
const PROBES_AT_ONCE = 8;

/**
 * The offset just past the first line break at or after `at - 1` (so a cut already on a line start stays), or `size`.
 */
async function nextLineStart(datasets: DatasetStore, source: S3ObjectRef, at: number, size: number): Promise<number> {
  for (let from = at - 1; from < size; from += PROBE_BYTES) {
    const bytes = await readRange(datasets, source, from, Math.min(size, from + PROBE_BYTES));
    const nl = bytes.indexOf(10);
    if (nl !== -1) return from + nl + 1;
  }
  return size;
}

async function readRange(datasets: DatasetStore, source: S3ObjectRef, start: number, end: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of await datasets.open(source, { start, end })) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

/**
 * Cuts a Parquet file into chunks of whole row groups of about `chunkBytes` (uncompressed) each; or, for a file that
 * would make fewer than `fanOut` chunks of it, about a `fanOut`th of it but no less than `minChunkBytes` (each chunk
 * reads only its own row groups).
 */
export async function planParquet(
  file: AsyncBuffer,
  opts: { file: string; prep: PrepConfig; compression: Compression },
): Promise<Plan> {
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw new InputError(`the Parquet file cannot be read: ${(err as Error).message}`, { file: opts.file });
  }
  const columns = metadata.schema
    .slice(1)
    .filter((s) => !s.num_children)
    .map((s) => s.name);
  checkColumns(columns, opts.prep, opts.file);
  const ranges = rowGroupRanges(metadata);
  const chunkBytes = chunkTarget(
    opts.prep,
    ranges.reduce((n, r) => n + r.bytes, 0),
    opts.compression === 'none',
  );
  const chunks: ChunkPlan[] = [];
  let group: number[] = [];
  let bytes = 0;
  let first = 0;
  const cut = () =>
    chunks.push({
      index: chunks.length,
      total: 1,
      format: 'parquet',
      compression: opts.compression,
      rowGroups: group,
      firstLine: first,
    });
  ranges.forEach((r, i) => {
    if (group.length && bytes + r.bytes > chunkBytes) {
      cut();
      group = [];
      bytes = 0;
      first = r.start;
    }
    group.push(i);
    bytes += r.bytes;
  });
  const records = Number(metadata.num_rows);
  if (records === 0 || !group.length) throw new InputError('the Parquet file has no rows', { file: opts.file });
  cut();
  return {
    format: 'parquet',
    compression: opts.compression,
    chunks: withTotal(chunks),
    records,
    bytes: file.byteLength,
    columns,
  };
}

const withTotal = (chunks: ChunkPlan[]) => chunks.map((c) => ({ ...c, total: chunks.length }));

/** For tabular input, a column the template needs and the header lacks fails the run at once, naming it. */
function checkColumns(columns: string[], prep: PrepConfig, file: string) {
  const t = prep.template;
  const needed: Array<[keyof typeof t, string]> =
    t.kind === 'text'
      ? [['textField', t.textField]]
      : t.kind === 'fields'
        ? [
            ['promptField', t.promptField],
            ['completionField', t.completionField],
          ]
        : [
            ['instructionField', t.instructionField],
            ['outputField', t.outputField],
          ];
  for (const [setting, name] of needed) {
    if (!columns.includes(name)) {
      throw new InputError(
        `column "${name}" (prep.template.${setting}) is not in the file; its columns are: ${columns.join(', ')}`,
        { file, line: 1, field: name },
        `set prep.template.${setting} to the column that holds it (one of: ${columns.join(', ')})` +
          (t.kind === 'dolly'
            ? '; for one text column, set prep.template.kind to "text" and prep.template.textField'
            : ''),
      );
    }
  }
}
