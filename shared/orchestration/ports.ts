import type { CountFigure } from '../lambda/metrics';
import type { Send } from '../messages/send';
import type { RunStore } from '../runs/store';
import type { ModelFamily } from '../catalog/models';
import type { DeploymentRecordQuotas } from './record-limits';

/**
 * The ports of the submit, monitor, provision, evaluate and sweeper steps; each step picks the ones it uses. Domain
 * code sees these plain interfaces only; the SDK adapters are in bedrock-adapter.ts and shared/aws/s3-io.ts, and unit
 * tests pass in-memory fakes.
 */

export type JobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';
export type ThroughputStatus = 'Creating' | 'InService' | 'Updating' | 'Failed';

export interface CreateJobRequest {
  jobName: string;
  customModelName: string;
  roleArn: string;
  clientRequestToken: string;
  baseModelIdentifier: string;
  customizationType: 'FINE_TUNING' | 'CONTINUED_PRE_TRAINING';
  trainingS3Uri: string;
  validationS3Uri?: string;
  outputS3Uri: string;
  hyperParameters: Record<string, string>;
  tags?: Record<string, string>;
}

export interface JobView {
  jobArn: string;
  jobName: string;
  status: JobStatus;
  failureMessage?: string;
  outputModelArn?: string;
  creationTime?: Date;
  endTime?: Date;
  trainingLoss?: number;
  validationLosses: number[];
  outputS3Uri?: string;
  hyperParameters?: Record<string, string>;
}

export interface CreateThroughputRequest {
  name: string;
  clientRequestToken: string;
  modelId: string;
  modelUnits: number;
  /** Omitted for no-commitment (hourly) throughput (docs/bedrock-api.md §11.1). */
  commitmentDuration?: 'OneMonth' | 'SixMonths';
  tags?: Record<string, string>;
}

export interface ThroughputView {
  arn: string;
  name: string;
  status: ThroughputStatus;
  modelArn: string;
  failureMessage?: string;
  commitmentDuration?: string;
  commitmentExpirationTime?: Date;
}

export type DeploymentStatus = 'Creating' | 'Active' | 'Failed';

export interface CreateDeploymentRequest {
  name: string;
  clientRequestToken: string;
  modelArn: string;
  tags?: Record<string, string>;
}

export interface DeploymentView {
  arn: string;
  name: string;
  status: DeploymentStatus;
  modelArn: string;
  failureMessage?: string;
}

export interface BedrockPort {
  createJob(req: CreateJobRequest): Promise<string>;
  /** By ARN or name (docs/bedrock-api.md §12 "Identifier lookup"). */
  getJob(jobIdentifier: string): Promise<JobView>;
  stopJob(jobIdentifier: string): Promise<void>;
  createThroughput(req: CreateThroughputRequest): Promise<string>;
  getThroughput(id: string): Promise<ThroughputView>;
  deleteThroughput(id: string): Promise<void>;
  /** Custom model deployments: on-demand serving of a custom model (docs/bedrock-api.md §11.4). */
  createDeployment?(req: CreateDeploymentRequest): Promise<string>;
  getDeployment?(id: string): Promise<DeploymentView>;
  deleteDeployment?(id: string): Promise<void>;
  /** Deletes a custom model (the gate, with `evaluation.gate.deleteModels`); only the evaluate step uses it. */
  deleteCustomModel?(modelArn: string): Promise<void>;
  /**
   * Text generation on a served custom model (bedrock-runtime InvokeModel on a throughput or deployment ARN), in the
   * request and response shapes of the model's family (docs/bedrock-api.md §11.2; default Titan). Callers go through
   * invokeServedModel (serving.ts), which picks the ARN and the family from the run.
   */
  invokeText?(modelId: string, prompt: string, maxTokenCount: number, family?: ModelFamily): Promise<InvokedText>;
}

/** A model's answer. */
export interface InvokedText {
  text: string;
  /**
   * The local Bedrock emulator's own statement that no model ran, from the `emulation` member it adds to every
   * InvokeModel response (docs/bedrock-emulator.md); absent for a real model's answer.
   */
  emulated?: string;
}

/**
 * What the orchestration needs to know about a failed Bedrock call. The adapter maps the SDK error names
 * (docs/bedrock-api.md §1.2) to these kinds; domain code never looks at SDK classes.
 */
export type BedrockErrorKind =
  | 'quota' // ServiceQuotaExceededException: e.g. too many concurrent jobs; retry later
  | 'throttled' // ThrottlingException / 429: back off
  | 'access-denied' // AccessDeniedException: the role or the caller's permissions
  | 'name-in-use' // ValidationException "The provided job name is currently in use." (docs/bedrock-api.md §1.3)
  | 'validation' // other ValidationException: the request is wrong; retrying will not help
  | 'conflict' // ConflictException
  | 'not-found' // ResourceNotFoundException
  | 'transient'; // 5xx, network errors, timeouts: retry

export class BedrockCallError extends Error {
  constructor(
    readonly kind: BedrockErrorKind,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BedrockCallError';
  }
}

export const isBedrockError = (err: unknown, ...kinds: BedrockErrorKind[]): err is BedrockCallError =>
  err instanceof BedrockCallError && (kinds.length === 0 || kinds.includes(err.kind));

/** An error a later try of the same call may not get: throttling, 5xx, a timeout or a broken connection. */
export const isRetryable = (err: unknown): err is BedrockCallError => isBedrockError(err, 'throttled', 'transient');

/** Access to the artifacts bucket: reads, and the small writes of the evaluate step. */
export interface ObjectStore {
  /** The object's text, or undefined when it does not exist. */
  getText(bucket: string, key: string): Promise<string | undefined>;
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  /** The object's lines, streamed (a training file may be gigabytes). */
  lines(bucket: string, key: string): AsyncIterable<string>;
  /** Writes (or overwrites) a small text object: the evaluate step's samples. */
  putText(bucket: string, key: string, text: string, contentType?: string): Promise<void>;
}

export interface OrchestrationSettings {
  artifactsBucket: string;
  bedrockRoleArn: string;
  /** First poll interval of a job; doubles up to maxPollSeconds. Minutes on AWS, 1-2 s against the fast local clock. */
  pollSeconds: number;
  maxPollSeconds: number;
  /** Poll interval of a throughput being created. */
  throughputPollSeconds: number;
  /** First wait of a run queued for a slot (the concurrent-jobs or the throughput quota); doubles up to the next. */
  queuedRetrySeconds: number;
  maxQueuedRetrySeconds: number;
  /** First wait after a throttled or transient Bedrock error (5xx, timeout); doubles, with jitter, up to the next. */
  throttleRetrySeconds: number;
  /** The ceiling of one such wait: minutes, so an outage of an hour costs a job of hours no more than minutes more. */
  maxRetrySeconds: number;
  /**
   * A step retries a throttled or transient error itself this many times (16 at 30 s doubling to 300 s: about an
   * hour); after that the message goes back to SQS and, in the end, to the dead-letter queue, and the sweeper
   * drives the run again once it has been left untouched for `staleAfterSeconds`.
   */
  maxThrottleRetries: number;
  /**
   * A run in a non-final state not written for this long has lost the message that would move it on (the longest
   * delay of ours is 900 s): the sweeper drives its step again.
   */
  staleAfterSeconds: number;
  /**
   * Modelled seconds per real second, for the max-duration check: 1 on AWS; the local Bedrock emulator runs a
   * simulated hour in about a second (3600).
   */
  timeScale: number;
  /**
   * The shortest time to live a throughput gets, in real seconds: 0 on AWS. On the fast local clock a 2-hour time to
   * live is 2 s, less than a throughput takes to be seen in service there; the local stage sets a floor.
   */
  minTtlSeconds: number;
  /** Record quotas the deployment declares for models the catalog publishes none for (BTP_RECORD_QUOTAS). */
  recordQuotas?: DeploymentRecordQuotas;
  /**
   * The day preflight reads the catalog's model lifecycle at (`YYYY-MM-DD`, BTP_CATALOG_DATE); absent: today. Only a
   * local stack playing an earlier Bedrock sets it (StackOptions.catalogDate).
   */
  catalogDate?: string;
}

export interface OrchestrationDeps {
  runs: RunStore;
  bedrock: BedrockPort;
  objects: ObjectStore;
  /** Sends a message to the queue that carries its type (ingest and evaluate are optional: send.reaches). */
  send: Send;
  /** Counts a figure operations watch (a CloudWatch metric in AWS). */
  count: CountFigure;
  settings: OrchestrationSettings;
  now: () => Date;
  random?: () => number;
}
