import * as z from 'zod';
import { RunConfig } from '../config/run-config';
import { S3ObjectRef } from '../messages/pipeline';
import { RecordCounts } from './reasons';

/** The version of a run's artifact formats: the manifests carry it, and it covers the line files they describe. */
export const ARTIFACTS_VERSION = 1;

const count = z.number().int().nonnegative();
export const SET_NAMES = ['train', 'validation', 'test'] as const;
export type SetName = (typeof SET_NAMES)[number];
const perSet = <T extends z.ZodType>(t: T) => z.object({ train: t, validation: t, test: t });

/** A JSON Lines file as written: its key, lines, bytes (line breaks included) and SHA-256. */
export const WrittenFile = z.object({
  key: z.string().min(1),
  records: count,
  bytes: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type WrittenFile = z.infer<typeof WrittenFile>;

/**
 * A prepared set as a job trains on it, with what preflight and the cost estimate need: estimated tokens of all its
 * records and of the largest (shared/catalog/tokens.ts, prompt plus completion or input), so submit reads no record.
 */
export const PreparedFile = WrittenFile.extend({ tokens: count, maxRecordTokens: count });
export type PreparedFile = z.infer<typeof PreparedFile>;

/** count, total, min, max, mean, median and 95th percentile of a list of numbers (shared/prep/stats.ts). */
export const Summary = z.object({
  count,
  total: z.number(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  p50: z.number(),
  p95: z.number(),
});
export type Summary = z.infer<typeof Summary>;

/** A histogram bin: records of length in [from, to). */
export const LengthBin = z.object({ from: z.number(), to: z.number(), count });
export type LengthBin = z.infer<typeof LengthBin>;

/**
 * What ingest found and planned (the run's `stages[n].prepare.plan`, which split copies into the manifest's `input`);
 * its `chunks` is the number of chunks the split waits for.
 */
export const IngestPlan = z.object({
  format: z.string(),
  compression: z.string(),
  encoding: z.string(),
  bytes: count,
  records: count.optional(),
  chunks: count,
  columns: z.array(z.string()).optional(),
});
export type IngestPlan = z.infer<typeof IngestPlan>;

/** The manifest's `input`: ingest's notes, and what split adds (chunks, eligible records, duplicates across chunks). */
const ManifestInput = IngestPlan.extend({ eligible: count, duplicatesAcrossChunks: count });

/** `manifest.json` of a stage's split: what was read, what was kept and why not, and the sets written. */
export const SplitManifest = z.object({
  schemaVersion: z.literal(ARTIFACTS_VERSION),
  kind: z.literal('split'),
  /** The run (the stage is in the manifest's key, shared/runs/keys.ts). */
  runId: z.string().min(1),
  source: S3ObjectRef,
  config: RunConfig,
  seed: z.string(),
  input: ManifestInput,
  counts: RecordCounts,
  /** Records per category: of the eligible (kept, distinct) records, and of each set. */
  byCategory: z.object({ eligible: z.record(z.string(), count) }).extend(perSet(z.record(z.string(), count)).shape),
  lengths: perSet(z.object({ chars: Summary, tokens: Summary })),
  /**
   * Prompt + completion (or input) lengths of every record in a set, in code points: ten bins up to the limit, and
   * one past it for the records dropped for their length; p50, p95 and max of the training set.
   */
  lengthHistogram: z.object({
    unit: z.literal('characters'),
    limit: count,
    bins: z.array(LengthBin),
    p50: z.number(),
    p95: z.number(),
    max: z.number(),
  }),
  tokenEstimate: z.object({ estimator: z.string(), total: perSet(count) }),
  outputs: perSet(PreparedFile).extend({ rejects: WrittenFile }),
  warnings: z.array(z.string()),
  createdAt: z.iso.datetime(),
});
export type SplitManifest = z.infer<typeof SplitManifest>;

/**
 * `parts/<k>.manifest.json`: one of a stage's sequential jobs (`maxRecordsPerJob`), its share of the stage's training
 * set and the stage's whole validation set. Its `outputs` has the split manifest's shape, so submit reads both alike.
 */
export const PartManifest = z.object({
  schemaVersion: z.literal(ARTIFACTS_VERSION),
  kind: z.literal('part'),
  runId: z.string().min(1),
  stage: count,
  part: count,
  parts: z.number().int().min(2),
  /** The stage's split manifest, which describes the data the parts share. */
  stageManifestKey: z.string().min(1),
  outputs: z.object({ train: PreparedFile, validation: PreparedFile }),
});
export type PartManifest = z.infer<typeof PartManifest>;

/** What submit reads: a stage's manifest or one part's. */
export const DatasetManifest = z.discriminatedUnion('kind', [SplitManifest, PartManifest]);
export type DatasetManifest = z.infer<typeof DatasetManifest>;

/** The sets a job trains on, from either manifest: an empty validation or test set is none. */
export function trainingFiles(m: DatasetManifest): {
  train: PreparedFile;
  validation?: PreparedFile;
  test?: PreparedFile;
} {
  const { train, validation } = m.outputs;
  const test = m.kind === 'split' ? m.outputs.test : undefined;
  return {
    train,
    ...(validation.records > 0 ? { validation } : {}),
    ...(test && test.records > 0 ? { test } : {}),
  };
}
