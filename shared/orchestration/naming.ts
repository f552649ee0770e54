/**
 * Names and idempotency keys of the Bedrock resources a run creates. Everything derives from the run's business
 * identity (run id, stage, attempt), never from an SQS message id, so a redelivered or replayed message computes the
 * same job name and clientRequestToken and cannot create a second job (docs/bedrock-api.md §5: a repeated token is
 * ignored; a repeated
 * job name is refused with "The provided job name is currently in use.").
 *
 * The run id is recoverable from a job name, which is how Bedrock's state-change events (which carry `jobName`, api
 * §10) find their run.
 */
const PREFIX = 'btp';

export interface JobKey {
  runId: string;
  /** Index in the run's stages; 0 for a single-stage run. */
  stage: number;
  /** 1 for the first submission; a remediation or a resume makes a new attempt (and so a new job name). */
  attempt: number;
  /** Index of the job among a stage's sequential jobs (stages.ts planParts); 0, and absent from the name, otherwise. */
  part?: number;
}

export const jobName = ({ runId, stage, attempt, part }: JobKey): string =>
  `${PREFIX}-${runId}-s${stage}${part ? `p${part}` : ''}-a${attempt}`;

/**
 * The job name doubles as the clientRequestToken: both are unique per attempt, and the patterns overlap
 * (docs/bedrock-api.md §3).
 */
export const jobClientToken = (key: JobKey): string => jobName(key);

/**
 * `customModelName` allows no dots and no doubled separators (docs/bedrock-api.md §3), which the run id check below
 * guarantees.
 */
export const customModelName = (key: JobKey): string => jobName(key);

export const throughputName = (runId: string, stage: number): string => `${PREFIX}-${runId}-s${stage}-pt`;
/**
 * The clientRequestToken of a stage's `purchase`-th throughput (from 1: the run's `provision.attempts` + 1). Copies
 * of one purchase send the same token and get one throughput; a later purchase, after the first was deleted or
 * failed, sends a new one: Bedrock "ignores the request" when a token matches a previous one
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateProvisionedModelThroughput.html), so the old
 * token would answer with the deleted throughput.
 */
export const throughputClientToken = (runId: string, stage: number, purchase = 1): string =>
  ofPurchase(throughputName(runId, stage), purchase);

/** A custom model deployment's name: its run's throughput name with `-od` (on demand) for `-pt`. */
export const deploymentName = (runId: string, stage: number): string =>
  throughputName(runId, stage).replace(/-pt$/, '-od');

/** The clientRequestToken of a stage's `purchase`-th deployment, new for each purchase as a throughput's is. */
export const deploymentClientToken = (runId: string, stage: number, purchase = 1): string =>
  ofPurchase(deploymentName(runId, stage), purchase);

/** The first purchase's token is the name itself (as before purchases were counted); later ones add their number. */
const ofPurchase = (name: string, purchase: number): string => (purchase > 1 ? `${name}-${purchase}` : name);

const JOB_NAME = /^btp-(.+)-s\d+(?:p\d+)?-a\d+$/;

/**
 * The run a job name belongs to, or undefined for a job that is not this pipeline's. Bedrock's state-change events
 * carry only the job's name; its stage, part and attempt are read from the run's records, not from the name.
 */
export const runIdOfJobName = (name: string): string | undefined => JOB_NAME.exec(name)?.[1];

// Strictest of jobName `[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*`, customModelName `([0-9a-zA-Z][_-]?){1,63}` and
// provisionedModelName `([0-9a-zA-Z][_-]?)+` (docs/bedrock-api.md §3), all at most 63 characters.
const SAFE_RUN_ID = /^[0-9a-zA-Z](-?[0-9a-zA-Z])*$/;
const LONGEST_SUFFIX = '-s9p99-a99'.length;

/** Why a run id cannot name Bedrock resources, or undefined when it can. */
export function runIdNameProblem(runId: string): string | undefined {
  if (!SAFE_RUN_ID.test(runId)) {
    return `run id "${runId}" cannot name Bedrock resources: only letters, digits and single hyphens are allowed`;
  }
  const max = 63 - PREFIX.length - 1 - LONGEST_SUFFIX;
  if (runId.length > max) return `run id "${runId}" is too long to name Bedrock resources (at most ${max} characters)`;
  return undefined;
}
