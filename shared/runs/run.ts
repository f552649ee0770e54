import type { RunConfig } from '../config/run-config';
import type { S3ObjectRef } from '../messages/pipeline';
import type { RunStatus } from './status';

/** Record counts of the data preparation, by outcome and reason. input = kept + filtered + rejected, always. */
export interface RunCounts {
  input: number;
  kept: number;
  filtered: number;
  rejected: number;
  byReason: Record<string, number>;
  train?: number;
  validation?: number;
  test?: number;
}

export interface RunFailure {
  stage: string;
  reason: string;
  /** Where the problem is, when it is in the input: file, line or row, field. */
  location?: { file?: string; line?: number; row?: number; field?: string };
  at: string;
}

export interface StageRecord {
  status: 'pending' | 'running' | 'done' | 'failed';
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/** The run item in the runs table. */
export interface Run {
  runId: string;
  status: RunStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
  source: S3ObjectRef;
  config: RunConfig;
  /** Where this run's artifacts live: `s3://<artifactsBucket>/runs/<runId>/`. */
  artifactsPrefix: string;
  stages: Record<string, StageRecord>;
  /** A chained run's current stage (config `stages`) and sequential job within it; absent means 0. */
  stageIndex?: number;
  partIndex?: number;
  counts?: RunCounts;
  chunksTotal?: number;
  warnings?: string[];
  costEstimateUsd?: number;
  jobArn?: string;
  jobName?: string;
  jobStatus?: string;
  modelArn?: string;
  provisionedModelArn?: string;
  throughputExpiresAt?: string;
  metrics?: { trainingLoss?: number; validationLoss?: number };
  /** What the evaluate step sent to the provisioned model (config `provisioning.evaluateSamples`) and where the answers are. */
  evaluation?: RunEvaluation;
  failure?: RunFailure;
}

export interface RunEvaluation {
  /** `runs/<runId>/evaluation/samples.jsonl` in the artifacts bucket. */
  samplesKey: string;
  /** Test records the model answered. */
  samples: number;
  /** Test records it could not answer (their lines carry the error). */
  failed: number;
  /** Why the evaluation is partial or missing, when it is; the run still succeeds (see services/evaluate). */
  warning?: string;
}

export interface RunEvent {
  runId: string;
  seq: number;
  at: string;
  type: string;
  from?: RunStatus;
  to?: RunStatus;
  detail?: Record<string, unknown>;
}

export interface ChunkResult {
  runId: string;
  /** The stage of a chained run the chunk belongs to; absent means 0. */
  stage?: number;
  index: number;
  /** Counts for this chunk alone; the split adds them up. */
  counts: RunCounts;
  /** Keys of the chunk's outputs under the run's artifacts prefix. */
  keptKey: string;
  /** Line-aligned metadata of kept.jsonl's records, for split. */
  metaKey: string;
  rejectsKey: string;
  /** The line breaks in the chunk's range (text formats). */
  lines?: number;
  /** Its line numbers count from the chunk's start (see ChunkPlan.relativeLines): split adds the lines before it. */
  relativeLines?: true;
  doneAt: string;
}
