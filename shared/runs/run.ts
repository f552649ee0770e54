import * as z from 'zod';
import { RunConfig } from '../config/run-config';
import { S3ObjectRef } from '../messages/pipeline';
import { CostEstimate } from '../orchestration/cost';
import { IngestPlan, PreparedFile } from '../artifacts/manifest';
import { RecordCounts } from '../artifacts/reasons';
import { CheckedPromptFile, HeldOutCheck, JudgeRecord, ScoreSummary } from '../artifacts/evaluation';
import { RUN_STATUSES } from './status';

/**
 * The run item of the runs table and the records it holds, one schema each: every writer builds these types and
 * DynamoRunStore parses every item it reads against them. Stages and their sequential jobs are arrays indexed by
 * number (`stages[n].jobs[part]`); what can be computed from them is not stored (the current stage is the last one
 * started, the current part the last job of it; a job's name comes from run id, stage, part and attempt, naming.ts).
 */

const Iso = z.string().min(1);
const Count = z.number().int().nonnegative();

/** Record counts of the data preparation, as the manifest has them (one schema: shared/artifacts/reasons.ts). */
export const RunCounts = RecordCounts;
export type RunCounts = RecordCounts;

/** Where a run failed: the step (ingest, transform, split, submit, train, provision, cancel) and why. */
export const RunFailure = z.object({
  stage: z.string().min(1),
  reason: z.string(),
  /** What to change to make the run work, naming the setting where there is one (absent on records made before). */
  hint: z.string().optional(),
  /** Where the problem is, when it is in the input: file, line or row, field. */
  location: z
    .object({
      file: z.string().optional(),
      line: z.number().optional(),
      row: z.number().optional(),
      field: z.string().optional(),
    })
    .optional(),
  at: Iso,
});
export type RunFailure = z.infer<typeof RunFailure>;

export const StepStatus = z.enum(['pending', 'running', 'done', 'failed']);
export type StepStatus = z.infer<typeof StepStatus>;

/** One prepared file as the split wrote it. */
const SetFile = z.object({ key: z.string().min(1), records: Count, sha256: z.string().optional() });

/** One sequential job's training data (a stage with `maxRecordsPerJob` under its training set, stages.ts planParts). */
export const RecordedPart = z.object({
  part: Count,
  manifestKey: z.string().min(1),
  trainKey: z.string().min(1),
  records: Count,
});
export type RecordedPart = z.infer<typeof RecordedPart>;

/** A stage's data preparation: ingest's plan, then the split's outputs and counts. */
export const PrepareRecord = z.object({
  status: StepStatus,
  startedAt: Iso.optional(),
  endedAt: Iso.optional(),
  /** What ingest found and planned; its `chunks` is the number of chunks the split waits for. */
  plan: IngestPlan.optional(),
  /** Every chunk message of the plan was sent (a crash before leaves the run for a redelivery to queue them again). */
  chunksQueued: z.boolean().optional(),
  /** The stage's record counts (stage 0's are the run's, record.ts runCounts), once split or failed. */
  counts: RunCounts.optional(),
  split: z
    .object({
      startedAt: Iso,
      manifestKey: z.string().min(1),
      train: SetFile,
      validation: SetFile,
      test: SetFile,
      rejects: SetFile,
      /** Present when the stage trains in sequential jobs. */
      parts: z.array(RecordedPart).optional(),
    })
    .optional(),
});
export type PrepareRecord = z.infer<typeof PrepareRecord>;

/** Size figures of a prepared file as the preflight read them from its manifest (the manifest's own schema). */
const FileFigures = PreparedFile.pick({ key: true, records: true, bytes: true, tokens: true, maxRecordTokens: true });

export const JOB_STATUSES = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const;

/** One sequential job of a stage (`stages[n].jobs[part]`), its current attempt and what earlier attempts left. */
export const JobRecord = z.object({
  status: StepStatus,
  /** 1 for the first submission; a remediation or a resume makes a new attempt, and so a new job name. */
  attempt: z.number().int().positive(),
  startedAt: Iso.optional(),
  endedAt: Iso.optional(),
  /** The model trained on: absent for the stage's configured base model; the previous job's model in a chain. */
  baseModelIdentifier: z.string().optional(),
  /** The attempt's hyperparameters when they differ from the configuration's (a remediation, a resume). */
  hyperParameters: z.record(z.string(), z.string()).optional(),
  /** The preflight of an attempt, done once per attempt before CreateModelCustomizationJob. */
  preflight: z
    .object({
      attempt: z.number().int().positive(),
      manifestKey: z.string().min(1),
      train: FileFigures,
      validation: FileFigures.optional(),
      warnings: z.array(z.string()),
      costEstimate: CostEstimate,
    })
    .optional(),
  /** The concurrent-jobs quota was reached: the submit retries later. */
  queued: z.object({ at: Iso, retries: Count }).optional(),
  jobArn: z.string().optional(),
  /** The job's status in Bedrock, as last seen. */
  jobStatus: z.enum(JOB_STATUSES).optional(),
  /** The monitor's last poll of the attempt's job (0: the poll chain started). */
  lastPoll: Count.optional(),
  overdue: z.object({ at: Iso, hours: z.number() }).optional(),
  modelArn: z.string().optional(),
  trainingLoss: z.number().optional(),
  validationLoss: z.number().optional(),
  metricsFiles: z.object({ training: z.string().optional(), validation: z.string().optional() }).optional(),
  trainingSteps: Count.optional(),
  jobEndedAt: Iso.optional(),
  /** The automatic remedy applied once (monitor planRemediation). */
  remediation: z
    .object({ setting: z.string(), from: z.string(), to: z.string(), failureMessage: z.string(), at: Iso })
    .optional(),
  /** Earlier attempts' jobs that failed. */
  previousJobs: z
    .array(z.object({ jobArn: z.string(), attempt: z.number().int().positive(), failureMessage: z.string() }))
    .optional(),
  /** The failure a `resume` started this attempt from. */
  resumedFrom: RunFailure.optional(),
});
export type JobRecord = z.infer<typeof JobRecord>;

/** One stage of the run (a run without config `stages` has one): its data preparation and its sequential jobs. */
export const StageState = z.object({ prepare: PrepareRecord, jobs: z.array(JobRecord) });
export type StageState = z.infer<typeof StageState>;

/** The Provisioned Throughput bought for the run's final model. */
export const ProvisionRecord = z.object({
  status: StepStatus,
  attempts: Count,
  startedAt: Iso.optional(),
  endedAt: Iso.optional(),
  modelArn: z.string().min(1),
  modelUnits: z.number().int().positive(),
  /** What serves the model: a custom model deployment, or (absent, as before) a Provisioned Throughput. */
  via: z.enum(['deployment', 'provisioned-throughput']).optional(),
  commitmentDuration: z.string().optional(),
  ttlHours: z.number().positive(),
  inServiceAt: Iso.optional(),
  deletedAt: Iso.optional(),
  /** The last poll of the throughput while it is created (a copy of an older poll is then a duplicate). */
  lastPoll: Count.optional(),
});
export type ProvisionRecord = z.infer<typeof ProvisionRecord>;

/** What the evaluate step sends to the provisioned model (config `provisioning.evaluateSamples`) and what it got. */
export const EvaluationRecord = z.object({
  status: StepStatus,
  attempts: Count,
  /** The final stage's held-out test set and how many of its records to send. */
  plan: z.object({ testKey: z.string().min(1), samples: z.number().int().positive() }).optional(),
  throttledRetries: Count.optional(),
  endedAt: Iso.optional(),
  result: z
    .object({
      /** `runs/<runId>/evaluation/samples.jsonl` in the artifacts bucket. */
      samplesKey: z.string().min(1),
      /** Test records the model answered. */
      samples: Count,
      /** Test records it could not answer (their lines carry the error). */
      failed: Count,
      /** Why the evaluation is partial or missing, when it is; the run still succeeds (see services/evaluate). */
      warning: z.string().optional(),
      /** The scores (all of them in `scoresKey`, an EvaluationScores file): overall and by category. */
      scoresKey: z.string().min(1).optional(),
      scores: z.object({ overall: ScoreSummary, byCategory: z.record(z.string(), ScoreSummary) }).optional(),
      /** The proof that the test records were held out from training and validation. */
      heldOut: HeldOutCheck.optional(),
      /** The local Bedrock emulator's statement that no model ran, when it gave the answers (no trained model did). */
      emulated: z.string().optional(),
      /** The judge model (config `evaluation.judge`): its cost estimate, the calls made, or why it was not asked. */
      judge: JudgeRecord.optional(),
      /**
       * The base model asked the same prompts (config `evaluation.baseModel`): its scores file and overall scores,
       * or why it has none (the base model could not be invoked).
       */
      base: z
        .object({
          modelId: z.string().min(1),
          scoresKey: z.string().min(1).optional(),
          overall: ScoreSummary.optional(),
          /** Its scores by category of the prompts (absent on runs evaluated before they were kept). */
          byCategory: z.record(z.string(), ScoreSummary).optional(),
          warning: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
});
export type EvaluationRecord = z.infer<typeof EvaluationRecord>;

/**
 * What a variant's child run trains (config `variants`): its name and place in the parent's list, its
 * hyperparameters as merged over the fine-tuning stage's, and, when it builds on the shared continued pre-training,
 * the parent's stage and model it starts from.
 */
export const VariantRecord = z.object({
  name: z.string().min(1),
  index: Count,
  hyperParameters: z.record(z.string(), z.string()),
  pretrained: z.object({ stage: Count, modelArn: z.string().min(1) }).optional(),
});
export type VariantRecord = z.infer<typeof VariantRecord>;

/** One child of an experiment run, as the parent lists it: the child's run id and its variant's name. */
export const ChildRef = z.object({ runId: z.string().min(1), variant: z.string().min(1) });
export type ChildRef = z.infer<typeof ChildRef>;

/**
 * A run whose next step needs a slot of an account quota that is full, waiting in `queued` for one to free (it is
 * never failed for it): a Provisioned Throughput or a custom model deployment for its trained model. A run queued on
 * the concurrent-jobs quota keeps its wait on the job's record (JobRecord.queued).
 */
export const SlotWait = z.object({
  slot: z.enum(['throughput', 'deployment']),
  /** The quota, as the catalog publishes it (an account's own may be higher). */
  quota: z.object({ name: z.string().min(1), value: z.number().optional() }),
  /** Bedrock's refusal. */
  reason: z.string(),
  since: Iso,
  retries: Count,
});
export type SlotWait = z.infer<typeof SlotWait>;

/** The last throttled or transient Bedrock error a step retried, with its count: `btp status` shows it. */
export const RetryRecord = z.object({
  status: z.enum(RUN_STATUSES),
  step: z.string().min(1),
  code: z.string(),
  message: z.string(),
  retry: Count,
  at: Iso,
});
export type RetryRecord = z.infer<typeof RetryRecord>;

/**
 * The gate's decision on an evaluated run (config `evaluation.gate`, shared/evaluation/gate.ts): keep the throughput
 * until its time to live, or delete it (and the custom model, if configured) as soon as the evaluation ends; then
 * what was deleted, so a redelivered message finishes the deletion and never repeats it.
 */
export const GateRecord = z.object({
  decision: z.enum(['keep', 'delete']),
  reasons: z.array(z.string()),
  decidedAt: Iso,
  throughputDeletedAt: Iso.optional(),
  /** When the gate deleted the custom model deployment serving the run's model (instead of a throughput). */
  deploymentDeletedAt: Iso.optional(),
  modelDeletedAt: Iso.optional(),
});
export type GateRecord = z.infer<typeof GateRecord>;

/**
 * The `run.requested` message that started the run, as its sender identified it: its envelope's `runId` (the sender's
 * own id for the request; the run's id derives from the object and configuration) and `correlationId`.
 */
export const RunRequest = z.object({ runId: z.string().min(1), correlationId: z.string().min(1) });
export type RunRequest = z.infer<typeof RunRequest>;

/** One entry of a run's history: `seq` is the run version the write that made it produced. */
export const RunEvent = z.object({
  runId: z.string().min(1),
  seq: z.number().int().positive(),
  at: Iso,
  type: z.string().min(1),
  from: z.enum(RUN_STATUSES).optional(),
  to: z.enum(RUN_STATUSES).optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type RunEvent = z.infer<typeof RunEvent>;

/** The run item in the runs table. */
export const Run = z.object({
  runId: z.string().min(1),
  status: z.enum(RUN_STATUSES),
  version: z.number().int().positive(),
  createdAt: Iso,
  updatedAt: Iso,
  source: S3ObjectRef,
  config: RunConfig,
  /** Where this run's artifacts live: `s3://<artifactsBucket>/runs/<runId>/`. */
  artifactsPrefix: z.string().min(1),
  /** The stages started so far, in order: the last is the current one. */
  stages: z.array(StageState),
  warnings: z.array(z.string()).optional(),
  /** The run's final model: the last job's, or the one `model.provision` named. */
  modelArn: z.string().optional(),
  /** The throughput the run holds, and when a no-commitment one is to be deleted (absent once deleted). */
  provisionedModelArn: z.string().optional(),
  throughputExpiresAt: Iso.optional(),
  /**
   * The custom model deployment that serves the run's model on demand (instead of a throughput, where the catalog
   * says the base model supports it: provisioning.serving). Kept once deleted, as a throughput's ARN is:
   * `provision.deletedAt` says when.
   */
  deploymentArn: z.string().optional(),
  provision: ProvisionRecord.optional(),
  evaluation: EvaluationRecord.optional(),
  /** The slot a `queued` run waits for (absent while it waits for a job slot, and once it has one). */
  waiting: SlotWait.optional(),
  lastRetry: RetryRecord.optional(),
  gate: GateRecord.optional(),
  failure: RunFailure.optional(),
  /**
   * The prompt file (config `evaluation.promptFile`) as ingest checked it when the run started, with its SHA-256; a
   * variant's run has its experiment's. The evaluate step asks it only if it is still the same file.
   */
  promptFile: CheckedPromptFile.optional(),
  /** A variant's run: the experiment run it belongs to, and what it trains (shared/orchestration/variants.ts). */
  parentRunId: z.string().min(1).optional(),
  variant: VariantRecord.optional(),
  /** An experiment run (config `variants`): its children, one per variant, in the configuration's order. */
  children: z.array(ChildRef).optional(),
  /** Present when a `run.requested` message started the run (absent for an upload). */
  request: RunRequest.optional(),
  /**
   * A status change whose `run.status.changed` may not have gone out: written with the change and cleared once it is
   * published, so a crash between the two leaves it for the sweeper to publish (shared/runs/notifying-run-store.ts).
   */
  unannounced: z
    .object({ to: z.enum(RUN_STATUSES), from: z.enum(RUN_STATUSES).optional(), event: z.string().min(1) })
    .optional(),
  /**
   * The history entry of the latest write that made one, kept in the run's own write: the entry's item is written
   * after it (the table takes no transactions locally), so a crash in between loses nothing. The store reads it into
   * the history while the entry's item is missing, and writes it before the next entry
   * (shared/runs/dynamo-run-store.ts).
   */
  lastEvent: RunEvent.optional(),
});
export type Run = z.infer<typeof Run>;

/** One transform chunk's result. */
export const ChunkResult = z.object({
  runId: z.string().min(1),
  /** The stage of the run the chunk belongs to. */
  stage: Count,
  index: Count,
  /** Counts for this chunk alone; the split adds them up. */
  counts: RunCounts,
  /** Keys of the chunk's outputs under the stage's artifacts prefix. */
  keptKey: z.string().min(1),
  /** Line-aligned metadata of kept.jsonl's records, for split. */
  metaKey: z.string().min(1),
  rejectsKey: z.string().min(1),
  /** The line breaks in the chunk's range (text formats). */
  lines: Count.optional(),
  /** Its line numbers count from the chunk's start (see ChunkPlan.relativeLines): split adds the lines before it. */
  relativeLines: z.literal(true).optional(),
  /**
   * Duplicates this chunk's transform dropped whose text its environment had kept in an earlier chunk of the run
   * (absent: none, or a record written before it was counted); split adds those it finds.
   */
  duplicatesOfEarlierChunks: Count.optional(),
  doneAt: Iso,
});
export type ChunkResult = z.infer<typeof ChunkResult>;
