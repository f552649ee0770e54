import * as z from 'zod';
import { defineMessage } from './envelope';

/** Where a dataset object lives. `etag`/`versionId` pin the exact bytes a run was made from. */
export const S3ObjectRef = z.object({
  bucket: z.string().min(3),
  key: z.string().min(1),
  etag: z.string().optional(),
  versionId: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
});
export type S3ObjectRef = z.infer<typeof S3ObjectRef>;

/** Posted by other teams (or the CLI) to the ingest queue to start a run on an object already in S3. */
export const RunRequested = defineMessage('run.requested', 1, () =>
  z.object({
    source: S3ObjectRef,
    /** A partial run configuration; see shared/config/run-config.ts. */
    config: z.record(z.string(), z.unknown()).optional(),
  }),
);

/** One unit of transform work: a byte range on record boundaries, or a Parquet row group range. */
export const ChunkPlan = z.object({
  index: z.number().int().nonnegative(),
  total: z.number().int().positive(),
  format: z.enum(['jsonl', 'json', 'csv', 'tsv', 'parquet']),
  compression: z.enum(['none', 'gzip']),
  /** Byte range [start, end) of the source, on record boundaries (for text formats). */
  start: z.number().int().nonnegative().optional(),
  end: z.number().int().nonnegative().optional(),
  /**
   * 1-based line (text formats) or 0-based row (Parquet, JSON array element) the chunk starts at, for error locations.
   */
  firstLine: z.number().int().nonnegative().optional(),
  /**
   * Ingest cut the file (JSON Lines) by byte ranges without reading it: transform checks the chunk's UTF-8, and numbers
   * its lines from 1 at the chunk's start; split adds the line counts of the chunks before it.
   */
  relativeLines: z.literal(true).optional(),
  rowGroups: z.array(z.number().int().nonnegative()).optional(),
});
export type ChunkPlan = z.infer<typeof ChunkPlan>;

/**
 * `stage` indexes a chained run's stages (0 for single-stage runs), so a late chunk of one stage never counts for the
 * next.
 */
export const ChunkRequested = defineMessage('chunk.requested', 1, () =>
  z.object({ source: S3ObjectRef, chunk: ChunkPlan, stage: z.number().int().nonnegative().default(0) }),
);

export const ChunkTransformed = defineMessage('chunk.transformed', 1, () =>
  z.object({
    chunkIndex: z.number().int().nonnegative(),
    total: z.number().int().positive(),
    stage: z.number().int().nonnegative().default(0),
  }),
);

/** The split is written; submit takes it from here. `stage` indexes the run's stages (0 for single-stage runs). */
export const DatasetPrepared = defineMessage('dataset.prepared', 1, () =>
  z.object({ manifestKey: z.string().min(1), stage: z.number().int().nonnegative().default(0) }),
);

export const JobSubmitted = defineMessage('job.submitted', 1, () =>
  z.object({
    jobArn: z.string().min(1),
    attempt: z.number().int().positive(),
    stage: z.number().int().nonnegative().default(0),
  }),
);

/** How many times in a row the sender has retried a throttled or transient Bedrock call; drives the backoff. */
const retry = z.number().int().nonnegative().default(0);

/** A delayed self-message: EventBridge delivery is best effort, so monitor also polls. */
export const JobPoll = defineMessage('job.poll', 1, () =>
  z.object({
    jobArn: z.string().min(1),
    attempt: z.number().int().positive(),
    poll: z.number().int().nonnegative(),
    retry,
  }),
);

/**
 * To the provision queue: buy throughput for the run's model. Sent again, delayed, by provision itself while the
 * run waits for a throughput slot or rides out a throttled or transient error.
 */
export const ModelReady = defineMessage('model.ready', 1, () => z.object({ modelArn: z.string().min(1), retry }));

/**
 * To the provision queue: look at what serves the run's model again, until it is in service or has failed (sent
 * delayed by provision itself). `provisionedModelArn` is the throughput's ARN, or the custom model deployment's when
 * the run is served by one (provisioning.serving): the field is named for the first; a v2 would name it for both,
 * but while the internal queues may hold copies of v1 the name stays.
 */
export const ThroughputPoll = defineMessage('throughput.poll', 1, () =>
  z.object({ provisionedModelArn: z.string().min(1), poll: z.number().int().nonnegative() }),
);

/**
 * To the submit queue: submit (or resubmit) the run's current attempt. Sent delayed while the run is queued on the
 * concurrent-jobs quota or backing off from throttling, and at once after a remediation or a resume. The attempt
 * and its settings are read from the run, not from this message, so a stale copy can never submit an old attempt.
 */
export const JobRequested = defineMessage('job.requested', 1, () =>
  z.object({
    stage: z.number().int().nonnegative().default(0),
    /** `throttled`: a throttled or transient error; `redrive`: the sweeper found the run left untouched. */
    reason: z.enum(['queued', 'throttled', 'remediation', 'resume', 'redrive']),
    /** How many times this wait has been retried; drives the backoff. */
    retry: z.number().int().nonnegative().default(0),
  }),
);

/**
 * To the provision queue: delete the throughput when its time to live is over (re-delayed in 900 s steps). Sent at
 * once by a cancel, when `provisionedModelArn` may also be the run's custom model deployment, which has no time to
 * live and is deleted only for a cancelled run.
 */
export const ThroughputExpire = defineMessage('throughput.expire', 1, () =>
  z.object({ provisionedModelArn: z.string().min(1), expiresAt: z.iso.datetime() }),
);

/**
 * From monitor to the ingest queue: a chained run's previous stage is trained and the run is `preparing` for this
 * stage; plan the stage's dataset into chunks. Ingest reads everything else from the run, so a copy is harmless.
 * The sweeper sends it too (stage 0 included) for a run left `preparing` with chunks that never came back, and for
 * stage 0 of a run left `requested` (recorded by ingest, never planned).
 */
export const StageRequested = defineMessage('stage.requested', 1, () =>
  z.object({ stage: z.number().int().nonnegative() }),
);

/**
 * From provision (and the sweeper, when the first copy was lost) to the evaluate queue: the run's throughput is in
 * service and the run is `evaluating`; send held-out test prompts to it. How many, and which file, are read from the
 * run, so a copy is harmless. `retry` counts the throttled attempts and drives the backoff.
 */
export const EvaluationRequested = defineMessage('evaluation.requested', 1, () =>
  z.object({ provisionedModelArn: z.string().min(1), retry: z.number().int().nonnegative().default(0) }),
);
