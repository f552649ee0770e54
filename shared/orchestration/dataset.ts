import { z } from 'zod';
import { estimateTokens } from '../catalog/tokens';
import type { ObjectStore } from './ports';

/** Size figures of one prepared file, as the preflight and the cost estimate need them. */
export interface FileStats {
  records: number;
  bytes: number;
  /** Estimated tokens of all records (conservative, shared/catalog/tokens.ts). */
  tokens: number;
  /** Estimated tokens of the largest record (input + output). */
  maxRecordTokens: number;
  /** Lines that are not a JSON object: Bedrock fails such a file ("Data files must conform to JSONL format", api §6.4). */
  invalidLines: number;
}

export interface PreparedFile {
  name: 'train' | 'validation' | 'test';
  key: string;
  s3Uri: string;
  stats: FileStats;
}

export interface PreparedDataset {
  manifestKey: string;
  train: PreparedFile;
  validation?: PreparedFile;
  test?: PreparedFile;
}

/**
 * The manifest the split step writes. Its exact layout belongs to data preparation, so this reader is tolerant: a
 * file may be described under `files.<name>` or `<name>` with any of key / records / bytes / tokens /
 * maxRecordTokens; what is missing is taken from the conventional key (`runs/<runId>/prepared/<name>.jsonl`) and
 * from reading the file itself.
 */
const FileEntry = z
  .object({
    key: z.string().min(1).optional(),
    records: z.number().int().nonnegative().optional(),
    bytes: z.number().int().nonnegative().optional(),
    tokens: z.number().nonnegative().optional(),
    maxRecordTokens: z.number().nonnegative().optional(),
  })
  .loose();
type FileEntry = z.infer<typeof FileEntry>;
const Manifest = z
  .object({
    files: z.record(z.string(), FileEntry).optional(),
    train: FileEntry.optional(),
    validation: FileEntry.optional(),
    test: FileEntry.optional(),
    /** The split step's own manifest describes its files here (a chained run's later stages have no conventional keys). */
    outputs: z.record(z.string(), FileEntry).optional(),
  })
  .loose();

export class ManifestError extends Error {}

export async function loadPreparedDataset(
  objects: ObjectStore,
  bucket: string,
  runId: string,
  manifestKey: string,
): Promise<PreparedDataset> {
  const text = await objects.getText(bucket, manifestKey);
  if (text === undefined) throw new ManifestError(`manifest s3://${bucket}/${manifestKey} does not exist`);
  let parsed: z.infer<typeof Manifest>;
  try {
    parsed = Manifest.parse(JSON.parse(text));
  } catch (err) {
    throw new ManifestError(`manifest s3://${bucket}/${manifestKey} is not readable: ${(err as Error).message}`);
  }
  const entry = (name: 'train' | 'validation' | 'test'): FileEntry | undefined => parsed.files?.[name] ?? parsed[name] ?? parsed.outputs?.[name];
  const load = async (name: 'train' | 'validation' | 'test'): Promise<PreparedFile | undefined> => {
    const e = entry(name);
    const key = e?.key ?? `runs/${runId}/prepared/${name}.jsonl`;
    if (e?.records === 0 && name !== 'train') return undefined;
    const complete = e && e.records !== undefined && e.bytes !== undefined && e.tokens !== undefined && e.maxRecordTokens !== undefined;
    let stats: FileStats | undefined;
    if (complete) {
      stats = { records: e.records!, bytes: e.bytes!, tokens: e.tokens!, maxRecordTokens: e.maxRecordTokens!, invalidLines: 0 };
    } else {
      const exists = (await objects.listKeys(bucket, key)).includes(key);
      if (!exists) {
        if (name === 'train') throw new ManifestError(`training file s3://${bucket}/${key} does not exist`);
        return undefined;
      }
      stats = await fileStats(objects.lines(bucket, key));
    }
    if (stats.records === 0 && name !== 'train') return undefined;
    return { name, key, s3Uri: `s3://${bucket}/${key}`, stats };
  };
  const train = (await load('train'))!;
  const dataset: PreparedDataset = { manifestKey, train };
  const validation = await load('validation');
  if (validation) dataset.validation = validation;
  const test = await load('test');
  if (test) dataset.test = test;
  return dataset;
}

/** Reads a JSONL stream once: records, bytes, estimated tokens (prompt + completion, or the CPT `input`). */
export async function fileStats(lines: AsyncIterable<string>): Promise<FileStats> {
  const stats: FileStats = { records: 0, bytes: 0, tokens: 0, maxRecordTokens: 0, invalidLines: 0 };
  for await (const line of lines) {
    stats.bytes += Buffer.byteLength(line) + 1;
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      stats.invalidLines++;
      continue;
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      stats.invalidLines++;
      continue;
    }
    const r = record as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const tokens = estimateTokens(text(r.prompt)) + estimateTokens(text(r.completion)) + estimateTokens(text(r.input));
    stats.records++;
    stats.tokens += tokens;
    stats.maxRecordTokens = Math.max(stats.maxRecordTokens, tokens);
  }
  return stats;
}
