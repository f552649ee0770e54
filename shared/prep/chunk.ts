import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { AsyncBuffer } from 'hyparquet';
import type { ChunkPlan, S3ObjectRef } from '../messages/pipeline';
import type { RunCounts } from '../runs/run';
import { LineWriter } from './lines';
import type { ArtifactStore, DatasetStore } from './ports';
import type { StageKeys } from '../runs/keys';
import { readHeader, readParquetChunk, readTextChunk } from './read';
import { ChunkProcessor } from './records';
import type { RecordRules } from './rules';
import { InputError } from './errors';
import { checkEncoding, isRangeable, logicalStream, sliceStream } from './source';
import { Utf8Validator } from './utf8';
import { sourceName } from './source-name';

/** Where a chunk's outputs go, and what split needs of them. */
export interface ChunkOutputs {
  counts: RunCounts;
  keptKey: string;
  metaKey: string;
  rejectsKey: string;
  /**
   * The line breaks in the chunk's range (text formats): what split adds to the line numbers of the chunks after it.
   */
  lines?: number;
  /**
   * The chunk's line numbers (in meta.jsonl and rejects.jsonl) count from its start, not the file's (see ChunkPlan).
   */
  relativeLines?: true;
  /** Duplicates dropped here of texts this environment kept in an earlier chunk of the run (ChunkResult's). */
  duplicatesOfEarlierChunks?: number;
}

/**
 * Transforms one chunk into its three files under `keys` (kept.jsonl: the Bedrock records; meta.jsonl: what split
 * needs of each, line by line; rejects.jsonl), and returns its counts.
 */
export async function transformChunkFiles(args: {
  plan: ChunkPlan;
  source: S3ObjectRef;
  rules: RecordRules;
  datasets: DatasetStore;
  artifacts: ArtifactStore;
  keys: Pick<StageKeys, 'chunkKept' | 'chunkMeta' | 'chunkRejects'>;
  run?: string;
}): Promise<ChunkOutputs> {
  const { plan, keys, artifacts } = args;
  const open = (key: string) => {
    const t = artifacts.write(key, 'application/x-ndjson');
    return new LineWriter(key, t.stream, t.done);
  };
  const kept = open(keys.chunkKept(plan.index));
  const meta = open(keys.chunkMeta(plan.index));
  const rejects = open(keys.chunkRejects(plan.index));
  const { counts, lines, duplicatesOfEarlierChunks } = await processChunk({ ...args, kept, meta, rejects });
  await Promise.all([kept.close(), meta.close(), rejects.close()]);
  return {
    counts,
    keptKey: kept.key,
    metaKey: meta.key,
    rejectsKey: rejects.key,
    ...(lines !== undefined ? { lines } : {}),
    ...(plan.relativeLines ? { relativeLines: true as const } : {}),
    ...(duplicatesOfEarlierChunks ? { duplicatesOfEarlierChunks } : {}),
  };
}

/**
 * Streams one chunk of the input through the template and filters into two line writers (kept, rejects). Only the
 * chunk's bytes are read when the object allows ranged reads; gzip or converted input is read from the start and
 * skipped up to the chunk (offsets are in the decompressed, decoded bytes).
 */
export async function processChunk(args: {
  plan: ChunkPlan;
  source: S3ObjectRef;
  rules: RecordRules;
  datasets: DatasetStore;
  kept: LineWriter;
  meta: LineWriter;
  rejects: LineWriter;
  /** The run (and stage) the chunk belongs to: see ChunkProcessor. */
  run?: string;
}): Promise<{ counts: RunCounts; lines?: number; duplicatesOfEarlierChunks: number }> {
  const { plan, source, rules, datasets } = args;
  const file = sourceName(source);
  let wait: Promise<void> | undefined;
  const hold = (p: Promise<void> | undefined) => {
    if (p) wait = p;
  };
  const between = () => {
    const w = wait;
    wait = undefined;
    return w;
  };
  const processor = new ChunkProcessor(
    rules,
    {
      kept: (meta, record) => {
        hold(args.meta.write(meta));
        hold(args.kept.writeBytes(record));
      },
      reject: (line) => hold(args.rejects.write(line)),
      rejectBytes: (line) => hold(args.rejects.writeBytes(line)),
      rejectHead: (head, n, last) => hold(args.rejects.writeHeadInt(head, n, last)),
    },
    args.run === undefined
      ? undefined
      : { run: args.run, chunk: plan.index, relativeLines: plan.relativeLines === true },
    // The validator below checks each buffer before its records are read from it.
    { utf8Checked: plan.relativeLines === true && plan.format !== 'parquet' },
  );
  const onRecord = processor.handle.bind(processor);

  if (plan.format === 'parquet') {
    await readParquetChunk(await parquetFile(datasets, source, plan), plan, onRecord, between);
    return { counts: processor.counts, duplicatesOfEarlierChunks: processor.duplicatesOfEarlierChunks };
  }
  const encoding = await checkEncoding(rules.config.prep.encoding);
  const opened: Readable[] = [];
  const openLogical = async (start: number, end: number | undefined): Promise<Readable> => {
    if (isRangeable(plan, encoding))
      return datasets.open(source, { start, end: end ?? source.size ?? Number.MAX_SAFE_INTEGER });
    const raw = await datasets.open(source);
    opened.push(raw); // a sliced read stops early: the connection underneath is closed when the chunk is done
    return sliceStream(await logicalStream(raw, plan.compression, encoding), start, end);
  };
  let header: string[] | undefined;
  const start = plan.start ?? 0;
  if ((plan.format === 'csv' || plan.format === 'tsv') && start > 0) {
    header = await readHeader(await openLogical(0, Math.min(start, 1024 * 1024)), plan.format);
  }
  // A chunk cut without ingest reading it (relativeLines) has had its bytes checked by no one yet. Only checked here
  // (readTextChunk checks each buffer before it reads records from it, so the byte path need not check them again):
  // a failure is located by checking again from the file's start.
  const validator = plan.relativeLines ? new Utf8Validator(file, { countLines: false, offset: start }) : undefined;
  let lines: number;
  try {
    ({ lines } = await readTextChunk(
      await openLogical(start, plan.end),
      plan,
      { file, header, between, validator, onJsonBytes: processor.handleJsonBytes.bind(processor) },
      onRecord,
    ));
  } catch (err) {
    // The same check from the file's start names the line in the file (and throws that error).
    if (validator && err instanceof InputError) await checkUtf8From0(datasets, source, plan.end ?? start, file);
    throw err;
  } finally {
    for (const raw of opened) raw.destroy();
  }
  return { counts: processor.counts, lines, duplicatesOfEarlierChunks: processor.duplicatesOfEarlierChunks };
}

/** Reads [0, end) and checks its UTF-8 from the file's start, so a failure says the line in the file. */
async function checkUtf8From0(datasets: DatasetStore, source: S3ObjectRef, end: number, file: string): Promise<void> {
  const validator = new Utf8Validator(file);
  for await (const b of await datasets.open(source, { start: 0, end })) validator.push(b as Buffer);
  validator.end();
}

async function parquetFile(datasets: DatasetStore, source: S3ObjectRef, plan: ChunkPlan): Promise<AsyncBuffer> {
  if (plan.compression === 'gzip') {
    // A gzip stream cannot be read at random: the whole Parquet file is decompressed in memory.
    const chunks: Buffer[] = [];
    for await (const b of await datasets.open(source)) chunks.push(b as Buffer);
    const buf = gunzipSync(Buffer.concat(chunks));
    return bufferAsAsync(buf);
  }
  const size = source.size ?? (await datasets.head(source))?.size;
  if (size === undefined) throw new Error(`${sourceName(source)} does not exist`);
  return datasets.parquet(source, size);
}

export const bufferAsAsync = (buf: Buffer): AsyncBuffer => ({
  byteLength: buf.length,
  slice: (s: number, e?: number) =>
    buf.buffer.slice(buf.byteOffset + s, buf.byteOffset + (e ?? buf.length)) as ArrayBuffer,
});
