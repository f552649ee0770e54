import type { Readable } from 'node:stream';
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import type { ChunkPlan } from '../messages/pipeline';
import { parseDelimited } from './csv';
import type { SourceRecord } from './records';
import { makeSplitter, type RawRecord, type TextFormat } from './scan';
import type { Utf8Validator } from './utf8';

export type OnSource = (r: SourceRecord) => void;
/** Takes a JSON record as bytes, without decoding it, when it can; false: the record is decoded and parsed as usual. */
export type OnJsonBytes = (bytes: Buffer, pos: number, line: number | undefined, row: number | undefined) => boolean;

/**
 * Reads the records of one text chunk (bytes [start, end) of the UTF-8 input, already cut on record boundaries by
 * ingest) and hands each to `onRecord`, parsed or with the reason it could not be. `between` is awaited after each
 * buffer, so a slow writer holds the reader back instead of filling memory.
 */
export async function readTextChunk(
  stream: Readable,
  plan: ChunkPlan,
  opts: {
    file: string;
    header?: string[];
    between?: () => Promise<void> | undefined;
    onJsonBytes?: OnJsonBytes;
    validator?: Utf8Validator;
  },
  onRecord: OnSource,
): Promise<{ header?: string[]; lines: number }> {
  const format = plan.format as TextFormat;
  const start = plan.start ?? 0;
  const isJson = format === 'json';
  const firstLine = isJson ? 1 : (plan.firstLine ?? 1);
  const splitter = makeSplitter(format, {
    offset: start,
    line: firstLine,
    index: isJson ? (plan.firstLine ?? 0) : 0,
    mode: start === 0 ? 'file' : 'fragment',
    last: plan.index === plan.total - 1,
    file: opts.file,
  });
  let header = opts.header;
  const delimiter = format === 'tsv' ? '\t' : ',';
  const onJsonBytes = format === 'csv' || format === 'tsv' ? undefined : opts.onJsonBytes;
  const onRaw = (r: RawRecord) => {
    if (
      onJsonBytes &&
      (isJson ? onJsonBytes(r.bytes, r.pos, undefined, r.index) : onJsonBytes(r.bytes, r.pos, r.line, undefined))
    )
      return;
    const raw = r.bytes.toString('utf8');
    if (format === 'csv' || format === 'tsv') {
      const fields = parseDelimited(raw, delimiter);
      if (!header) {
        if (Array.isArray(fields)) header = fields;
        return;
      }
      onRecord(delimitedRecord(raw, fields, header, r));
      return;
    }
    const at = isJson ? { row: r.index } : { line: r.line };
    try {
      onRecord({ pos: r.pos, ...at, value: JSON.parse(raw), raw });
    } catch (err) {
      onRecord({
        pos: r.pos,
        ...at,
        raw,
        error: { reason: 'rejected:not_json', detail: `not JSON: ${(err as Error).message}` },
      });
    }
  };
  const { validator } = opts;
  for await (const buf of stream) {
    // Checked before any record is read from it: the byte path counts on it (ChunkProcessor's utf8Checked).
    validator?.push(buf as Buffer);
    splitter.push(buf as Buffer, onRaw);
    await opts.between?.();
  }
  validator?.end();
  splitter.end(onRaw);
  // The line breaks read: the lines of a chunk that ends on one, which every chunk but the last does.
  return { header, lines: splitter.line - firstLine };
}

function delimitedRecord(
  raw: string,
  fields: string[] | { error: string },
  header: string[],
  r: RawRecord,
): SourceRecord {
  if (!Array.isArray(fields))
    return { pos: r.pos, line: r.line, raw, error: { reason: 'rejected:bad_row', detail: fields.error } };
  if (fields.length !== header.length) {
    return {
      pos: r.pos,
      line: r.line,
      raw,
      error: { reason: 'rejected:bad_row', detail: `${fields.length} fields where the header has ${header.length}` },
    };
  }
  const value: Record<string, string> = {};
  header.forEach((h, i) => (value[h] = fields[i]!));
  return { pos: r.pos, line: r.line, value, raw };
}

/** The header of a CSV/TSV file: its first record, read from the first bytes. */
export async function readHeader(stream: Readable, format: 'csv' | 'tsv'): Promise<string[]> {
  const splitter = makeSplitter(format, { mode: 'file' });
  let header: string[] | undefined;
  for await (const buf of stream) {
    splitter.push(buf as Buffer, (r) => {
      if (header) return;
      const f = parseDelimited(r.bytes.toString('utf8'), format === 'tsv' ? '\t' : ',');
      if (Array.isArray(f)) header = f;
    });
    if (header) break;
  }
  if (!header)
    splitter.end((r) => {
      const f = parseDelimited(r.bytes.toString('utf8'), format === 'tsv' ? '\t' : ',');
      if (Array.isArray(f)) header = f;
    });
  stream.destroy();
  if (!header) throw new Error('the CSV header could not be read');
  return header;
}

/** Row ranges of row groups, from the file's metadata. */
export function rowGroupRanges(metadata: FileMetaData): Array<{ start: number; end: number; bytes: number }> {
  let at = 0;
  return metadata.row_groups.map((g) => {
    const n = Number(g.num_rows);
    const range = { start: at, end: at + n, bytes: Number(g.total_byte_size) };
    at += n;
    return range;
  });
}

/**
 * Reads the rows of a Parquet chunk's row groups, one row group at a time (a row group is Parquet's unit of reading).
 */
export async function readParquetChunk(
  file: AsyncBuffer,
  plan: ChunkPlan,
  onRecord: OnSource,
  between?: () => Promise<void> | undefined,
) {
  const metadata = await parquetMetadataAsync(file);
  const ranges = rowGroupRanges(metadata);
  for (const g of plan.rowGroups ?? []) {
    const range = ranges[g];
    if (!range) throw new Error(`row group ${g} is not in the file (it has ${ranges.length})`);
    const rows = (await parquetReadObjects({ file, metadata, rowStart: range.start, rowEnd: range.end })) as Record<
      string,
      unknown
    >[];
    rows.forEach((row, i) => {
      const value = plainRow(row);
      onRecord({ pos: range.start + i, row: range.start + i, value, raw: JSON.stringify(value) });
    });
    await between?.();
  }
}

/** Parquet INT64 values arrive as BigInt, which JSON cannot hold. */
function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row))
    out[k] = typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v;
  return out;
}
