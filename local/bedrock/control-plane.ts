import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  checkHyperParameters,
  customizationSpec,
  findBaseModel,
  findByInferenceId,
  lifecycleOn,
  tokenLimitFor,
  type BaseModel,
  type CustomizationSpec,
  type CustomizationType,
  type TokenLimit,
} from '../../shared/catalog';
import { readDataset, type DatasetResult, type Sample } from './dataset';
import type { LineageStep } from './answers';
import { conflict, notFound, quotaExceeded, validation } from './errors';
import { stateChangeEvent, type JobStatus, type ModelCustomizationJobStateChange } from './events';
import type { EmulatorQuotas } from './faults';
import { lossCurve, trainingCsv, validationCsv } from './metrics';
import { CUSTOMIZATION_TYPES, Checker, PATTERNS, parseS3Uri } from './shapes';

/** Simulated durations, in simulated milliseconds. Emulator assumptions, not Bedrock figures. */
export const TIMINGS: Timings = {
  /** Until the dataset checks report: Bedrock's validation step takes minutes. */
  validationMs: 10 * 60_000,
  /** Training throughput used to size a job; a small job still takes half an hour. */
  trainingTokensPerHour: 2_000_000,
  minTrainingMs: 30 * 60_000,
  /**
   * A batch size with no token limit fails this far into training, at most (docs/bedrock-api.md §8.1).
   * https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
   */
  batchTrapFailAfterMs: 60 * 60_000,
  stoppingMs: 5 * 60_000,
  throughputCreatingMs: 15 * 60_000,
  /** A custom model deployment from Creating to Active; an emulator assumption, as are the others. */
  deploymentCreatingMs: 10 * 60_000,
};

export interface Timings {
  validationMs: number;
  trainingTokensPerHour: number;
  minTrainingMs: number;
  batchTrapFailAfterMs: number;
  stoppingMs: number;
  throughputCreatingMs: number;
  deploymentCreatingMs: number;
}

export interface ControlPlaneConfig {
  timings: Timings;
  region: string;
  accountId: string;
  s3: S3Client;
  quotas: EmulatorQuotas;
  /** Runs `fn` after `simulatedMs` of simulated time. */
  schedule: (simulatedMs: number, fn: () => void) => void;
  emit: (event: ModelCustomizationJobStateChange) => void;
  pendingJobFailures: Map<string, string>;
  /** Jobs by name that stay InProgress instead of completing (faults.ts). */
  heldJobs: Set<string>;
  /** The day Bedrock's model lifecycle is played at (BedrockEmulatorOptions.catalogDate): today, or a fixed day. */
  catalogDate: () => Date;
  /** Throughputs by name that fail or stay Creating instead of coming into service (faults.ts). */
  throughputFaults: Map<string, { fail: string } | 'hold'>;
  /** Custom model deployments by name that stay Creating instead of becoming Active (faults.ts). */
  heldDeployments: Set<string>;
}

interface Job {
  id: string;
  arn: string;
  name: string;
  status: JobStatus;
  failureMessage?: string;
  clientRequestToken?: string;
  creationTime: Date;
  lastModifiedTime: Date;
  endTime?: Date;
  baseModel: BaseModel;
  /** The custom model the job started from, when it did not start from a foundation model. */
  sourceModelArn?: string;
  spec: CustomizationSpec;
  customizationType: CustomizationType;
  roleArn: string;
  outputModelName: string;
  outputModelArn?: string;
  hyperParameters: Record<string, string>;
  values: Record<string, number>;
  trainingDataConfig: { s3Uri: string };
  validationDataConfig: { validators: Array<{ s3Uri: string }> };
  outputDataConfig: { s3Uri: string };
  vpcConfig?: unknown;
  trainingMetrics?: { trainingLoss: number };
  validationMetrics?: Array<{ validationLoss: number }>;
}

export interface CustomModel {
  arn: string;
  name: string;
  job: Job;
  creationTime: Date;
  status: 'Active' | 'Creating' | 'Failed';
  /** Training examples, for emulated inference. */
  samples: Sample[];
  /** The customizations that made the model, from its foundation model's first to its own (answers.ts). */
  lineage: LineageStep[];
}

export interface Throughput {
  arn: string;
  name: string;
  model: CustomModel;
  modelUnits: number;
  commitmentDuration?: 'OneMonth' | 'SixMonths';
  commitmentExpirationTime?: Date;
  status: 'Creating' | 'InService' | 'Updating' | 'Failed';
  failureMessage?: string;
  creationTime: Date;
  lastModifiedTime: Date;
  /** The model an update is moving the throughput to (UpdateProvisionedModelThroughput). */
  desiredModel?: CustomModel;
}

/** A custom model deployment: on-demand serving of a custom model, invoked by its ARN (docs/bedrock-api.md §11.4). */
export interface Deployment {
  arn: string;
  name: string;
  model: CustomModel;
  description?: string;
  status: 'Creating' | 'Active' | 'Failed';
  createdAt: Date;
  lastUpdatedAt: Date;
}

type Body = Record<string, unknown>;

const newId = () => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
};
const iso = (d: Date | undefined) => d?.toISOString();

/** The control-plane operations and the state they act on. */
export class ControlPlane {
  readonly jobs = new Map<string, Job>();
  readonly models = new Map<string, CustomModel>();
  readonly throughputs = new Map<string, Throughput>();
  readonly deployments = new Map<string, Deployment>();
  readonly deploymentTokens = new Map<string, string>();
  private readonly jobTokens = new Map<string, string>();
  /** Creates still checking S3 (see createJob): their names are taken, and their tokens answer with the same job. */
  private readonly creatingNames = new Set<string>();
  private readonly creatingByToken = new Map<string, Promise<{ jobArn: string }>>();
  private readonly throughputTokens = new Map<string, string>();
  /** S3 work running in the background (dataset reads, output writes): close waits for it before S3 goes away. */
  private readonly background = new Set<Promise<unknown>>();

  /** CreateCustomModelDeployment and the rest (the Deployments class below). */
  readonly deploymentOps: Deployments;

  constructor(private readonly cfg: ControlPlaneConfig) {
    this.deploymentOps = new Deployments(this, cfg);
  }

  updateThroughput(identifier: string, body: Body): void {
    applyThroughputUpdate(this, this.cfg, identifier, body);
  }

  async settle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.background.add(work);
    const done = () => this.background.delete(work);
    work.then(done, done);
    return work;
  }

  /**
   * Bedrock's model lifecycle at the emulator's catalog date: a model that did not exist yet is an unknown id, and
   * requests to an end-of-life model, or to a custom model of one, fail. The EOL text is the one Bedrock gives on
   * InvokeModel (aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws issue #708); that the
   * control plane answers the same is an assumption (docs/bedrock-api.md §15).
   * https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html
   */
  requireLive(base: BaseModel, identifier: string): void {
    const at = this.cfg.catalogDate();
    const state = lifecycleOn(base.lifecycle, at);
    const day = at.toISOString().slice(0, 10);
    if (state.status === 'not-yet-available') {
      throw validation(
        `The provided model identifier is invalid: ${identifier} is not a base model that supports customization. ` +
          `(Bedrock emulator: on its catalog date ${day}, ${base.name} was not yet offered.)`,
      );
    }
    if (state.status === 'end-of-life') {
      const successor = base.lifecycle.successor
        ? ` Its successor in the catalog: ${base.lifecycle.successor.id}.`
        : '';
      throw notFound(
        'This model version has reached the end of its life. Please refer to the AWS documentation for more details. ' +
          `(Bedrock emulator: ${base.name} reached end of life on ${state.since}; catalog date ${day}.${successor})`,
      );
    }
  }

  // ---------------- customization jobs ----------------

  async createJob(body: Body): Promise<{ jobArn: string }> {
    new Checker(body)
      .required('jobName')
      .string('jobName', { min: 1, max: 63, pattern: PATTERNS.JobName })
      .required('customModelName')
      .string('customModelName', { min: 1, max: 63, pattern: PATTERNS.CustomModelName })
      .required('roleArn')
      .string('roleArn', { max: 2048, pattern: PATTERNS.RoleArn })
      .string('clientRequestToken', { min: 1, max: 256, pattern: PATTERNS.IdempotencyToken })
      .required('baseModelIdentifier')
      .string('baseModelIdentifier', { min: 1, max: 2048, pattern: PATTERNS.BaseModelIdentifier })
      .string('customizationType', { enum: CUSTOMIZATION_TYPES })
      .required('trainingDataConfig')
      .string('trainingDataConfig.s3Uri', { min: 1, max: 1024, pattern: PATTERNS.S3Uri })
      .list('validationDataConfig.validators', { max: 10 }, (p) => this.s3UriMember(body, `${p}.s3Uri`))
      .required('outputDataConfig')
      .required('outputDataConfig.s3Uri')
      .string('outputDataConfig.s3Uri', { min: 1, max: 1024, pattern: PATTERNS.S3Uri })
      .stringMap('hyperParameters')
      .tags('jobTags')
      .tags('customModelTags')
      .done();
    if (body.validationDataConfig !== undefined) new Checker(body).required('validationDataConfig.validators').done();

    // A replayed token returns the original job and creates nothing (docs/bedrock-api.md §5: "ignores the request, but
    // does not
    // return an error"). A replay with a different body also gets the original: the documented wording.
    // https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html
    const token = body.clientRequestToken as string | undefined;
    const replayed = token ? this.jobTokens.get(token) : undefined;
    if (replayed) return { jobArn: replayed };
    // The same token while the first request is still checking S3: the same answer, not a second job.
    const pending = token ? this.creatingByToken.get(token) : undefined;
    if (pending) return pending;

    const identifier = body.baseModelIdentifier as string;
    // A custom model (ARN or name, docs/bedrock-api.md §12) can be customized further: continued pre-training, then
    // fine-tuning on
    // its output. The job inherits the foundation model's limits and reports the custom model as its base.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html
    const sourceModel = this.findModel(identifier);
    if (sourceModel && sourceModel.status !== 'Active')
      throw validation(`The custom model ${sourceModel.name} is not Active (${sourceModel.status}).`);
    const baseModel = sourceModel ? sourceModel.job.baseModel : findBaseModel(identifier);
    if (!baseModel) {
      const onDemand = findByInferenceId(identifier);
      throw validation(
        onDemand
          ? `The provided model identifier is invalid. ${identifier} is an on-demand model id; customization uses ${onDemand.id}.`
          : `The provided model identifier is invalid: ${identifier} is not a base model that supports customization.`,
      );
    }
    this.requireLive(baseModel, identifier);
    const type = (body.customizationType as CustomizationType | undefined) ?? 'FINE_TUNING';
    const spec = customizationSpec(baseModel, type);
    if (!spec) {
      const supported = baseModel.customizations.map((c) => c.type).join(', ');
      throw validation(
        `The base model ${baseModel.id} does not support customization type ${type}. Supported: ${supported}.`,
      );
    }
    if (!body.trainingDataConfig || !(body.trainingDataConfig as Body).s3Uri) {
      throw validation('trainingDataConfig.s3Uri is required for FINE_TUNING and CONTINUED_PRE_TRAINING jobs.');
    }
    const given = (body.hyperParameters as Record<string, string> | undefined) ?? {};
    const hp = checkHyperParameters(spec, given);
    if (!hp.ok) throw validation(hp.errors.join('; '));

    // Job names are unique per account; the refusal's text is the one Apache Airflow's Bedrock operator matches
    // (docs/bedrock-api.md §1.3;
    // https://github.com/apache/airflow/blob/main/providers/amazon/src/airflow/providers/amazon/aws/operators/bedrock.py).
    const name = body.jobName as string;
    if (this.creatingNames.has(name) || [...this.jobs.values()].some((j) => j.name === name))
      throw validation('The provided job name is currently in use.');
    const outputModelName = body.customModelName as string;
    if (
      this.findModel(outputModelName) ||
      [...this.jobs.values()].some((j) => j.outputModelName === outputModelName && j.status === 'InProgress')
    ) {
      throw validation('The provided custom model name is currently in use.');
    }
    // Concurrent jobs count against an account quota (its default is not published: docs/bedrock-api.md §14 item 11;
    // https://docs.aws.amazon.com/general/latest/gr/bedrock.html).
    const running =
      this.creatingNames.size +
      [...this.jobs.values()].filter((j) => j.status === 'InProgress' || j.status === 'Stopping').length;
    if (running >= this.cfg.quotas.concurrentJobs) {
      throw quotaExceeded(
        `You have reached the maximum number of concurrent model customization jobs (${this.cfg.quotas.concurrentJobs}) for this account.`,
      );
    }

    // The S3 checks below wait on I/O: the name (and token) are taken now, so two identical requests arriving
    // together make one job, as Bedrock's do.
    this.creatingNames.add(name);
    const creating = this.finishCreate(body, {
      name,
      token,
      outputModelName,
      baseModel,
      sourceModel,
      spec,
      type,
      hp,
      given,
    });
    if (token) this.creatingByToken.set(token, creating);
    try {
      return await creating;
    } finally {
      this.creatingNames.delete(name);
      if (token) this.creatingByToken.delete(token);
    }
  }

  private async finishCreate(
    body: Body,
    c: {
      name: string;
      token: string | undefined;
      outputModelName: string;
      baseModel: NonNullable<ReturnType<typeof findBaseModel>>;
      sourceModel: ReturnType<ControlPlane['findModel']>;
      spec: NonNullable<ReturnType<typeof customizationSpec>>;
      type: CustomizationType;
      hp: Extract<ReturnType<typeof checkHyperParameters>, { ok: true }>;
      given: Record<string, string>;
    },
  ): Promise<{ jobArn: string }> {
    const { name, token, outputModelName, baseModel, sourceModel, spec, type, hp, given } = c;
    const training = (body.trainingDataConfig as Body).s3Uri as string;
    const validators =
      ((body.validationDataConfig as Body | undefined)?.validators as Array<{ s3Uri: string }> | undefined) ?? [];
    const output = (body.outputDataConfig as Body).s3Uri as string;
    for (const uri of [training, ...validators.map((v) => v.s3Uri)]) await this.checkReadable(uri);
    await this.checkWritable(output);

    const id = newId();
    const now = new Date();
    const job: Job = {
      id,
      arn: `arn:aws:bedrock:${this.cfg.region}:${this.cfg.accountId}:model-customization-job/${baseModel.id}/${id}`,
      name,
      status: 'InProgress',
      creationTime: now,
      lastModifiedTime: now,
      baseModel,
      ...(sourceModel ? { sourceModelArn: sourceModel.arn } : {}),
      spec,
      customizationType: type,
      roleArn: body.roleArn as string,
      outputModelName,
      hyperParameters: Object.fromEntries(Object.entries(hp.values).map(([k, v]) => [k, given[k] ?? String(v)])),
      values: hp.values,
      trainingDataConfig: { s3Uri: training },
      validationDataConfig: { validators: validators.map((v) => ({ s3Uri: v.s3Uri })) },
      outputDataConfig: { s3Uri: output },
    };
    if (token) job.clientRequestToken = token;
    if (body.vpcConfig) job.vpcConfig = body.vpcConfig;
    this.jobs.set(job.arn, job);
    if (token) this.jobTokens.set(token, job.arn);
    this.emit(job);
    this.run(job);
    return { jobArn: job.arn };
  }

  private s3UriMember(body: Body, path: string) {
    new Checker(body).required(path).string(path, { min: 1, max: 1024, pattern: PATTERNS.S3Uri }).done();
  }

  /**
   * Bedrock checks at submission that it can read the data (docs/bedrock-api.md §6.4 wording); a missing object reads
   * the same.
   * https://docs.aws.amazon.com/bedrock/latest/userguide/fine-tuning-troubleshooting.html
   */
  private async checkReadable(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      await this.cfg.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch {
      throw validation(`Could not validate GetObject permissions to access Amazon S3 bucket: ${bucket} at key ${key}`);
    }
  }

  /**
   * Bedrock probes the output location with a write (docs/bedrock-api.md §9 `.write_access_check_file.tmp`).
   * https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html
   */
  private async checkWritable(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    const probe = `${key.replace(/\/$/, '')}${key ? '/' : ''}.write_access_check_file.tmp`;
    try {
      await this.cfg.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: probe, Body: Buffer.alloc(0), ContentLength: 0 }),
      );
      await this.cfg.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: probe }));
    } catch {
      throw validation(
        `Amazon S3 perms missing (PutObject): Could not validate PutObject permissions to access S3 bucket: ${bucket} at key ${probe}`,
      );
    }
  }

  /**
   * Plays the job out on the simulated clock: the dataset checks report after the validation step; training takes
   * time in proportion to tokens x epochs; a batch size with no defined token limit fails part-way through training.
   */
  private run(job: Job): void {
    const batchSize = job.values.batchSize;
    const limit: TokenLimit = tokenLimitFor(job.baseModel, job.customizationType, batchSize);
    const datasets = this.track(this.checkDatasets(job, limit));
    // An unexpected rejection (S3 gone) is reported as a job failure, like Bedrock's internal-error text.
    datasets.catch(() => undefined);
    this.cfg.schedule(this.cfg.timings.validationMs, () => {
      void datasets.then(
        (result) => this.afterValidation(job, result, limit),
        (err: unknown) =>
          this.fail(
            job,
            `Encountered an unexpected error when processing the request, please try again (${err instanceof Error ? err.message : String(err)})`,
          ),
      );
    });
  }

  private afterValidation(
    job: Job,
    result: { training: DatasetResult; validation: DatasetResult[] },
    limit: TokenLimit,
  ): void {
    if (job.status !== 'InProgress') return;
    const injected = this.cfg.pendingJobFailures.get(job.name);
    if (injected !== undefined) {
      this.cfg.pendingJobFailures.delete(job.name);
      return this.fail(job, injected);
    }
    const failed = [result.training, ...result.validation].find((r) => !r.ok);
    if (failed && !failed.ok) return this.fail(job, failed.failureMessage);
    if (!result.training.ok) return;
    if (this.cfg.heldJobs.has(job.name)) return; // stays InProgress until stopped
    const training = result.training;
    const epochs = job.values.epochCount ?? 1;
    const trainingMs = Math.max(
      this.cfg.timings.minTrainingMs,
      ((training.tokens * epochs) / this.cfg.timings.trainingTokensPerHour) * 3_600_000,
    );
    if (!limit.defined && limit.outcome === 'job-fails-during-training') {
      const failAfter = Math.min(this.cfg.timings.batchTrapFailAfterMs, trainingMs / 2);
      this.cfg.schedule(failAfter, () =>
        this.fail(
          job,
          `Training failed: batchSize ${job.values.batchSize} has no defined token limit for ${job.baseModel.id} ` +
            `(${limit.reason}). The API accepts 1-64, but training cannot run at this batch size. ` +
            '(Bedrock emulator: this failure is inferred from the documented limits, docs/bedrock-api.md §8.1.)',
        ),
      );
      return;
    }
    this.cfg.schedule(trainingMs, () => void this.track(this.complete(job, training)));
  }

  private async checkDatasets(
    job: Job,
    limit: TokenLimit,
  ): Promise<{ training: DatasetResult; validation: DatasetResult[] }> {
    const spec = job.spec;
    const limits = (role: 'Training' | 'Validation') => {
      const published =
        role === 'Training'
          ? (spec.records.maxTraining.value ?? spec.records.maxTotal.value)
          : spec.records.maxValidation.value;
      const fallback = role === 'Training' ? this.cfg.quotas.maxTrainingRecords : this.cfg.quotas.maxValidationRecords;
      return {
        format: spec.dataFormat,
        tokenRow: limit.defined ? limit.row : undefined,
        maxRecords:
          published !== null
            ? { value: published, emulatorDefault: false }
            : { value: fallback, emulatorDefault: true },
        maxBytes:
          (role === 'Training' ? spec.fileSize.maxTrainingBytes.value : spec.fileSize.maxValidationBytes.value) ??
          undefined,
      };
    };
    const t = parseS3Uri(job.trainingDataConfig.s3Uri);
    const training = await readDataset(this.cfg.s3, t.bucket, t.key, 'Training', limits('Training'));
    const validationResults: DatasetResult[] = [];
    for (const v of job.validationDataConfig.validators) {
      const { bucket, key } = parseS3Uri(v.s3Uri);
      validationResults.push(await readDataset(this.cfg.s3, bucket, key, 'Validation', limits('Validation')));
    }
    const min = spec.records.minTotal.value;
    const total = [training, ...validationResults].reduce((n, r) => n + (r.ok ? r.records : 0), 0);
    if (training.ok && min !== null && total < min) {
      return {
        training: {
          ok: false,
          failureMessage: `The dataset has ${total} records; ${job.baseModel.id} needs at least ${min}.`,
        },
        validation: validationResults,
      };
    }
    const maxTotal = spec.records.maxTotal.value;
    if (training.ok && maxTotal !== null && total > maxTotal) {
      return {
        training: {
          ok: false,
          failureMessage: `The sum of training and validation records (${total}) exceeds the limit of ${maxTotal} for ${job.baseModel.id}.`,
        },
        validation: validationResults,
      };
    }
    return { training, validation: validationResults };
  }

  private async complete(job: Job, training: Extract<DatasetResult, { ok: true }>): Promise<void> {
    if (job.status !== 'InProgress') return;
    const curve = lossCurve({
      records: training.records,
      tokens: training.tokens,
      epochs: job.values.epochCount ?? 1,
      batchSize: job.values.batchSize ?? 1,
      learningRate: job.values.learningRate ?? (job.values.learningRateMultiplier ?? 1) * 1e-5,
      validators: job.validationDataConfig.validators.length,
    });
    const { bucket, key } = parseS3Uri(job.outputDataConfig.s3Uri);
    const prefix = `${key.replace(/\/$/, '')}${key ? '/' : ''}model-customization-job-${job.id}`;
    try {
      await this.cfg.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}/training_artifacts/step_wise_training_metrics.csv`,
          Body: trainingCsv(curve),
          ContentType: 'text/csv',
        }),
      );
      if (curve.validation.length > 0) {
        await this.cfg.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `${prefix}/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`,
            Body: validationCsv(curve),
            ContentType: 'text/csv',
          }),
        );
      }
    } catch {
      return this.fail(
        job,
        `Amazon S3 perms missing (PutObject): Could not validate PutObject permissions to access S3 bucket: ${bucket} at key ${prefix}/training_artifacts/step_wise_training_metrics.csv`,
      );
    }
    if (job.status !== 'InProgress') return;
    const modelId = newId();
    const model: CustomModel = {
      arn: `arn:aws:bedrock:${this.cfg.region}:${this.cfg.accountId}:custom-model/${job.baseModel.id}/${modelId}`,
      name: job.outputModelName,
      job,
      creationTime: new Date(),
      status: 'Active',
      samples: training.samples,
      lineage: [
        ...((job.sourceModelArn && this.models.get(job.sourceModelArn)?.lineage) || []),
        {
          customizationType: job.customizationType,
          epochs: job.values.epochCount ?? 1,
          records: training.records,
          samples: training.samples,
        },
      ],
    };
    this.models.set(model.arn, model);
    job.outputModelArn = model.arn;
    job.trainingMetrics = { trainingLoss: curve.trainingLoss };
    job.validationMetrics = curve.validationLosses.map((validationLoss) => ({ validationLoss }));
    this.transition(job, 'Completed');
  }

  /** Fails an InProgress job; false when there is none of that name (the fault injector then waits for one). */
  failByName(name: string, message: string): boolean {
    const job = [...this.jobs.values()].find((j) => j.name === name && j.status === 'InProgress');
    if (!job) return false;
    this.fail(job, message);
    return true;
  }

  private fail(job: Job, message: string): void {
    if (job.status !== 'InProgress') return;
    job.failureMessage = message.slice(0, 2048);
    this.transition(job, 'Failed');
  }

  private transition(job: Job, status: JobStatus): void {
    job.status = status;
    job.lastModifiedTime = new Date();
    if (status === 'Completed' || status === 'Failed' || status === 'Stopped') job.endTime = job.lastModifiedTime;
    this.emit(job);
  }

  private emit(job: Job): void {
    const detail: Omit<ModelCustomizationJobStateChange['detail'], 'version'> = {
      jobName: job.name,
      jobArn: job.arn,
      outputModelName: job.outputModelName,
      roleArn: job.roleArn,
      jobStatus: job.status,
      creationTime: job.creationTime.toISOString(),
      lastModifiedTime: job.lastModifiedTime.toISOString(),
      baseModelArn: this.baseArn(job),
      hyperParameters: job.hyperParameters,
      trainingDataConfig: job.trainingDataConfig,
      validationDataConfig: job.validationDataConfig,
      outputDataConfig: job.outputDataConfig,
    };
    if (job.outputModelArn) detail.outputModelArn = job.outputModelArn;
    if (job.failureMessage) detail.failureMessage = job.failureMessage;
    if (job.endTime) detail.endTime = job.endTime.toISOString();
    this.cfg.emit(stateChangeEvent({ account: this.cfg.accountId, region: this.cfg.region, detail }));
  }

  private foundationArn(model: BaseModel): string {
    return `arn:aws:bedrock:${this.cfg.region}::foundation-model/${model.id}`;
  }

  /**
   * The model a job started from: the custom model it was given, else the foundation model. (The API reference
   * types the job's `baseModelArn` as a foundation-model ARN; for a job on a custom model the emulator reports the
   * custom model, which is what the pipeline checks a chain against. [U])
   */
  private baseArn(job: Job): string {
    return job.sourceModelArn ?? this.foundationArn(job.baseModel);
  }

  private findJob(identifier: string): Job {
    const job = this.jobs.get(identifier) ?? [...this.jobs.values()].find((j) => j.name === identifier);
    if (!job) throw notFound(`The specified model customization job ${identifier} could not be found.`);
    return job;
  }

  getJob(identifier: string): Body {
    const job = this.findJob(identifier);
    return {
      jobArn: job.arn,
      jobName: job.name,
      outputModelName: job.outputModelName,
      outputModelArn: job.outputModelArn,
      clientRequestToken: job.clientRequestToken,
      roleArn: job.roleArn,
      status: job.status,
      failureMessage: job.failureMessage,
      creationTime: iso(job.creationTime),
      lastModifiedTime: iso(job.lastModifiedTime),
      endTime: iso(job.endTime),
      baseModelArn: this.baseArn(job),
      hyperParameters: job.hyperParameters,
      trainingDataConfig: job.trainingDataConfig,
      // Required in the response shape even without validators (docs/bedrock-api.md §6.3).
      // https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetModelCustomizationJob.html
      validationDataConfig: job.validationDataConfig,
      outputDataConfig: job.outputDataConfig,
      customizationType: job.customizationType,
      trainingMetrics: job.trainingMetrics,
      validationMetrics: job.validationMetrics,
      vpcConfig: job.vpcConfig,
    };
  }

  listJobs(query: URLSearchParams): Body {
    const q = new ListQuery(query, ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']);
    const nameContains = query.get('nameContains');
    const items = [...this.jobs.values()].filter(
      (j) =>
        q.matchesTime(j.creationTime) && q.matchesStatus(j.status) && (!nameContains || j.name.includes(nameContains)),
    );
    const { page, nextToken } = q.paginate(items, (j) => j.creationTime);
    return {
      nextToken,
      modelCustomizationJobSummaries: page.map((j) => ({
        jobArn: j.arn,
        baseModelArn: this.baseArn(j),
        jobName: j.name,
        status: j.status,
        lastModifiedTime: iso(j.lastModifiedTime),
        creationTime: iso(j.creationTime),
        endTime: iso(j.endTime),
        customModelArn: j.outputModelArn,
        customModelName: j.outputModelName,
        customizationType: j.customizationType,
      })),
    };
  }

  /**
   * Only an InProgress job can be stopped (model-customization-stop). The error for other states is not
   * documented; ConflictException is the state error the model lists for this operation (docs/bedrock-api.md §4.2,
   * [U]).
   * https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-stop.html
   */
  stopJob(identifier: string): void {
    const job = this.findJob(identifier);
    if (job.status !== 'InProgress')
      throw conflict(
        `Cannot stop the model customization job ${job.name}: its status is ${job.status}; only an InProgress job can be stopped.`,
      );
    this.transition(job, 'Stopping');
    this.cfg.schedule(this.cfg.timings.stoppingMs, () => this.transition(job, 'Stopped'));
  }

  // ---------------- custom models ----------------

  findModel(identifier: string): CustomModel | undefined {
    return this.models.get(identifier) ?? [...this.models.values()].find((m) => m.name === identifier);
  }

  private requireModel(identifier: string): CustomModel {
    const model = this.findModel(identifier);
    if (!model) throw notFound(`The specified custom model ${identifier} could not be found.`);
    return model;
  }

  getModel(identifier: string): Body {
    const m = this.requireModel(identifier);
    return {
      modelArn: m.arn,
      modelName: m.name,
      jobName: m.job.name,
      jobArn: m.job.arn,
      baseModelArn: this.baseArn(m.job),
      customizationType: m.job.customizationType,
      hyperParameters: m.job.hyperParameters,
      trainingDataConfig: m.job.trainingDataConfig,
      validationDataConfig: m.job.validationDataConfig,
      outputDataConfig: m.job.outputDataConfig,
      trainingMetrics: m.job.trainingMetrics,
      validationMetrics: m.job.validationMetrics,
      creationTime: iso(m.creationTime),
      modelStatus: m.status,
    };
  }

  listModels(query: URLSearchParams): Body {
    const q = new ListQuery(query, ['Active', 'Creating', 'Failed'], 'modelStatus');
    const nameContains = query.get('nameContains');
    const base = query.get('baseModelArnEquals') ?? query.get('foundationModelArnEquals');
    const items = [...this.models.values()].filter(
      (m) =>
        q.matchesTime(m.creationTime) &&
        q.matchesStatus(m.status) &&
        (!nameContains || m.name.includes(nameContains)) &&
        (!base || this.foundationArn(m.job.baseModel) === base),
    );
    const { page, nextToken } = q.paginate(items, (m) => m.creationTime);
    return {
      nextToken,
      modelSummaries: page.map((m) => ({
        modelArn: m.arn,
        modelName: m.name,
        creationTime: iso(m.creationTime),
        baseModelArn: this.foundationArn(m.job.baseModel),
        baseModelName: m.job.baseModel.name,
        customizationType: m.job.customizationType,
        ownerAccountId: this.cfg.accountId,
        modelStatus: m.status,
      })),
    };
  }

  /** A model that a Provisioned Throughput serves cannot go (error type not documented: ConflictException, [U]). */
  deleteModel(identifier: string): void {
    const m = this.requireModel(identifier);
    const users = [...this.throughputs.values(), ...this.deployments.values()]
      .filter((t) => t.model === m)
      .map((t) => t.name);
    if (users.length)
      throw conflict(
        `The custom model ${m.name} is used by Provisioned Throughput or deployment ${users.join(', ')}; delete it first.`,
      );
    this.models.delete(m.arn);
  }

  // ---------------- provisioned throughput ----------------

  createThroughput(body: Body): { provisionedModelArn: string } {
    new Checker(body)
      .required('modelUnits')
      .integer('modelUnits', { min: 1 })
      .required('provisionedModelName')
      .string('provisionedModelName', { min: 1, max: 63, pattern: PATTERNS.ProvisionedModelName })
      .required('modelId')
      .string('modelId', { min: 1, max: 2048 })
      .string('clientRequestToken', { min: 1, max: 256, pattern: PATTERNS.IdempotencyToken })
      .string('commitmentDuration', { enum: ['OneMonth', 'SixMonths'] })
      .tags('tags')
      .done();
    const token = body.clientRequestToken as string | undefined;
    const replayed = token ? this.throughputTokens.get(token) : undefined;
    if (replayed) return { provisionedModelArn: replayed };

    const name = body.provisionedModelName as string;
    if (this.findThroughput(name)) throw validation('The provided provisioned model name is currently in use.');
    const modelId = body.modelId as string;
    if (findBaseModel(modelId) || findByInferenceId(modelId) || modelId.includes(':foundation-model/')) {
      throw validation(
        `Bedrock emulator: Provisioned Throughput is emulated only for custom models; ${modelId} is a base model.`,
      );
    }
    const model = this.requireModel(modelId);
    if (model.status !== 'Active')
      throw validation(`The custom model ${model.name} is not Active (status ${model.status}).`);
    this.requireLive(model.job.baseModel, model.arn);

    const units = body.modelUnits as number;
    const commitment = body.commitmentDuration as Throughput['commitmentDuration'];
    const all = [...this.throughputs.values()];
    // Model-unit quotas (docs/bedrock-api.md §11.1): https://docs.aws.amazon.com/bedrock/latest/userguide/prov-thru-purchase.html and
    // https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateProvisionedModelThroughput.html
    if (!commitment) {
      const q = this.cfg.quotas;
      if (units > q.modelUnitsPerNoCommitmentThroughput) {
        throw quotaExceeded(
          `A no-commitment Provisioned Throughput can have at most ${q.modelUnitsPerNoCommitmentThroughput} model unit(s); requested ${units}.`,
        );
      }
      if (all.filter((t) => !t.commitmentDuration).length >= q.noCommitmentThroughputs) {
        throw quotaExceeded(
          `The account already has the maximum of ${q.noCommitmentThroughputs} no-commitment Provisioned Throughputs.`,
        );
      }
    } else {
      const used = all.filter((t) => t.commitmentDuration).reduce((n, t) => n + t.modelUnits, 0);
      if (used + units > this.cfg.quotas.commitmentModelUnits) {
        throw quotaExceeded(
          `Requested ${units} model units with commitment, but the account quota is ${this.cfg.quotas.commitmentModelUnits} (${used} in use). By default an account has no model units for commitment purchases; request them from AWS support.`,
        );
      }
    }

    const now = new Date();
    const tp: Throughput = {
      arn: `arn:aws:bedrock:${this.cfg.region}:${this.cfg.accountId}:provisioned-model/${newId()}`,
      name,
      model,
      modelUnits: units,
      status: 'Creating',
      creationTime: now,
      lastModifiedTime: now,
    };
    if (commitment) {
      tp.commitmentDuration = commitment;
      tp.commitmentExpirationTime = new Date(now.getTime() + (commitment === 'OneMonth' ? 30 : 180) * 86_400_000);
    }
    this.throughputs.set(tp.arn, tp);
    if (token) this.throughputTokens.set(token, tp.arn);
    this.cfg.schedule(this.cfg.timings.throughputCreatingMs, () => {
      if (this.throughputs.get(tp.arn) !== tp) return;
      const fault = this.cfg.throughputFaults.get(tp.name);
      if (fault === 'hold') return; // stays Creating until deleted
      if (fault) {
        this.cfg.throughputFaults.delete(tp.name);
        tp.status = 'Failed';
        tp.failureMessage = fault.fail.slice(0, 2048);
      } else tp.status = 'InService';
      tp.lastModifiedTime = new Date();
    });
    return { provisionedModelArn: tp.arn };
  }

  findThroughput(identifier: string): Throughput | undefined {
    return this.throughputs.get(identifier) ?? [...this.throughputs.values()].find((t) => t.name === identifier);
  }

  private requireThroughput(identifier: string): Throughput {
    const tp = this.findThroughput(identifier);
    if (!tp) throw notFound(`The specified provisioned model ${identifier} could not be found.`);
    return tp;
  }

  private throughputSummary(t: Throughput): Body {
    return {
      provisionedModelName: t.name,
      provisionedModelArn: t.arn,
      modelArn: t.model.arn,
      desiredModelArn: (t.desiredModel ?? t.model).arn,
      foundationModelArn: this.foundationArn(t.model.job.baseModel),
      modelUnits: t.modelUnits,
      desiredModelUnits: t.modelUnits,
      status: t.status,
      commitmentDuration: t.commitmentDuration,
      commitmentExpirationTime: iso(t.commitmentExpirationTime),
      creationTime: iso(t.creationTime),
      lastModifiedTime: iso(t.lastModifiedTime),
    };
  }

  getThroughput(identifier: string): Body {
    const tp = this.requireThroughput(identifier);
    // GetProvisionedModelThroughput carries failureMessage; the list's summaries do not.
    // https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetProvisionedModelThroughput.html
    return { ...this.throughputSummary(tp), failureMessage: tp.failureMessage };
  }

  listThroughputs(query: URLSearchParams): Body {
    const q = new ListQuery(query, ['Creating', 'InService', 'Updating', 'Failed']);
    const nameContains = query.get('nameContains');
    const modelArn = query.get('modelArnEquals');
    const items = [...this.throughputs.values()].filter(
      (t) =>
        q.matchesTime(t.creationTime) &&
        q.matchesStatus(t.status) &&
        (!nameContains || t.name.includes(nameContains)) &&
        (!modelArn || t.model.arn === modelArn),
    );
    const { page, nextToken } = q.paginate(items, (t) => t.creationTime);
    return { nextToken, provisionedModelSummaries: page.map((t) => this.throughputSummary(t)) };
  }

  /**
   * "You can't delete a Provisioned Throughput before the commitment term is over" (docs/bedrock-api.md §4.3; error
   * type [U]).
   * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_DeleteProvisionedModelThroughput.html
   */
  deleteThroughput(identifier: string): void {
    const tp = this.requireThroughput(identifier);
    if (tp.commitmentExpirationTime && tp.commitmentExpirationTime.getTime() > Date.now()) {
      throw conflict(
        `You can't delete a Provisioned Throughput before the commitment term is over (${tp.commitmentExpirationTime.toISOString()}).`,
      );
    }
    this.throughputs.delete(tp.arn);
  }
}

/**
 * UpdateProvisionedModelThroughput: a new name and/or another custom model of the same base model
 * (docs/bedrock-api.md §11.1). The throughput is `Updating` for as long as a creation takes, serving the old model,
 * then `InService` on the new one. What Bedrock answers for an update while one is under way is not documented
 * (ConflictException here, [U]).
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_UpdateProvisionedModelThroughput.html
 */
function applyThroughputUpdate(plane: ControlPlane, cfg: ThroughputUpdateConfig, identifier: string, body: Body) {
  new Checker(body)
    .string('desiredProvisionedModelName', { min: 1, max: 63, pattern: PATTERNS.ProvisionedModelName })
    .string('desiredModelId', { min: 1, max: 2048 })
    .done();
  const tp = plane.findThroughput(identifier);
  if (!tp) throw notFound(`The specified provisioned model ${identifier} could not be found.`);
  if (tp.status !== 'InService')
    throw conflict(`The provisioned model ${tp.name} cannot be updated while its status is ${tp.status}.`);
  const name = body.desiredProvisionedModelName as string | undefined;
  if (name !== undefined && name !== tp.name && plane.findThroughput(name))
    throw validation('The provided provisioned model name is currently in use.');
  const modelId = body.desiredModelId as string | undefined;
  const desired = modelId === undefined ? undefined : plane.findModel(modelId);
  if (modelId !== undefined && !desired) throw notFound(`The specified custom model ${modelId} could not be found.`);
  if (desired) {
    if (desired.status !== 'Active') throw validation(`The custom model ${desired.name} is not Active.`);
    if (desired.job.baseModel.id !== tp.model.job.baseModel.id)
      throw validation(
        `The custom model ${desired.name} is not customized from ${tp.model.job.baseModel.id}, the base model of ` +
          `${tp.name}: a throughput can only change to a model of the same base model.`,
      );
    plane.requireLive(desired.job.baseModel, desired.arn);
  }
  if (name !== undefined) tp.name = name;
  tp.lastModifiedTime = new Date();
  if (!desired || desired === tp.model) return;
  tp.status = 'Updating';
  tp.desiredModel = desired;
  cfg.schedule(cfg.timings.throughputCreatingMs, () => {
    if (plane.throughputs.get(tp.arn) !== tp || tp.desiredModel !== desired) return;
    tp.model = desired;
    delete tp.desiredModel;
    tp.status = 'InService';
    tp.lastModifiedTime = new Date();
  });
}

type ThroughputUpdateConfig = Pick<ControlPlaneConfig, 'schedule' | 'timings'>;

const DEPLOYMENT_ARN = (region: string, account: string, id: string) =>
  `arn:aws:bedrock:${region}:${account}:custom-model-deployment/${id}`;

/**
 * Custom model deployments: on-demand serving of a custom model, for the base models the catalog says support it
 * (Nova Micro, Lite and Pro, docs/bedrock-api.md §11.4). Create answers 202 with the ARN; the deployment is
 * `Creating`, then `Active`, and InvokeModel takes its ARN as the model id.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateCustomModelDeployment.html
 */
export class Deployments {
  constructor(
    private readonly plane: ControlPlane,
    private readonly cfg: Pick<
      ControlPlaneConfig,
      'schedule' | 'timings' | 'region' | 'accountId' | 'quotas' | 'heldDeployments'
    >,
  ) {}

  create(body: Body): { customModelDeploymentArn: string } {
    new Checker(body)
      .required('modelDeploymentName')
      .string('modelDeploymentName', { min: 1, max: 63, pattern: PATTERNS.ProvisionedModelName })
      .required('modelArn')
      .string('modelArn', { min: 1, max: 1011 })
      .string('description', { min: 1, max: 200 })
      .string('clientRequestToken', { min: 1, max: 256, pattern: PATTERNS.IdempotencyToken })
      .tags('tags')
      .done();
    const plane = this.plane;
    const token = body.clientRequestToken as string | undefined;
    const replayed = token ? plane.deploymentTokens.get(token) : undefined;
    if (replayed) return { customModelDeploymentArn: replayed };
    const name = body.modelDeploymentName as string;
    if (this.find(name)) throw validation('The provided deployment name is currently in use.');
    const model = plane.findModel(body.modelArn as string);
    if (!model) throw notFound(`The specified custom model ${String(body.modelArn)} could not be found.`);
    if (model.status !== 'Active') throw validation(`The custom model ${model.name} is not Active.`);
    const base = model.job.baseModel;
    plane.requireLive(base, model.arn);
    if (base.lifecycle.serving.value !== 'deployment')
      throw validation(
        `Custom models of ${base.name} cannot be deployed for on-demand inference; use Provisioned Throughput. ` +
          '(Bedrock emulator: the catalog lists on-demand deployment for Nova Micro, Lite and Pro only.)',
      );
    const limit = this.cfg.quotas.customModelDeployments;
    if (plane.deployments.size >= limit)
      throw quotaExceeded(
        `The account already has the maximum of ${limit} custom model deployments (Bedrock emulator default quota).`,
      );
    const now = new Date();
    const d: Deployment = {
      arn: DEPLOYMENT_ARN(this.cfg.region, this.cfg.accountId, newId()),
      name,
      model,
      status: 'Creating',
      createdAt: now,
      lastUpdatedAt: now,
    };
    if (typeof body.description === 'string') d.description = body.description;
    plane.deployments.set(d.arn, d);
    if (token) plane.deploymentTokens.set(token, d.arn);
    this.cfg.schedule(this.cfg.timings.deploymentCreatingMs, () => {
      if (plane.deployments.get(d.arn) !== d) return;
      if (this.cfg.heldDeployments.has(d.name)) return; // stays Creating until deleted
      d.status = 'Active';
      d.lastUpdatedAt = new Date();
    });
    return { customModelDeploymentArn: d.arn };
  }

  find(identifier: string): Deployment | undefined {
    const all = this.plane.deployments;
    return all.get(identifier) ?? [...all.values()].find((d) => d.name === identifier);
  }

  private require(identifier: string): Deployment {
    const d = this.find(identifier);
    if (!d) throw notFound(`The specified custom model deployment ${identifier} could not be found.`);
    return d;
  }

  get(identifier: string): Body {
    const d = this.require(identifier);
    return {
      customModelDeploymentArn: d.arn,
      modelDeploymentName: d.name,
      modelArn: d.model.arn,
      createdAt: iso(d.createdAt),
      status: d.status,
      description: d.description,
      lastUpdatedAt: iso(d.lastUpdatedAt),
    };
  }

  list(query: URLSearchParams): Body {
    const q = new ListQuery(query, ['Creating', 'Active', 'Failed'], 'statusEquals', ['createdAfter', 'createdBefore']);
    const nameContains = query.get('nameContains');
    const modelArn = query.get('modelArnEquals');
    const items = [...this.plane.deployments.values()].filter(
      (d) =>
        q.matchesTime(d.createdAt) &&
        q.matchesStatus(d.status) &&
        (!nameContains || d.name.includes(nameContains)) &&
        (!modelArn || d.model.arn === modelArn),
    );
    const { page, nextToken } = q.paginate(items, (d) => d.createdAt);
    return {
      nextToken,
      modelDeploymentSummaries: page.map((d) => ({
        customModelDeploymentArn: d.arn,
        customModelDeploymentName: d.name,
        modelArn: d.model.arn,
        createdAt: iso(d.createdAt),
        status: d.status,
        lastUpdatedAt: iso(d.lastUpdatedAt),
      })),
    };
  }

  delete(identifier: string): void {
    this.plane.deployments.delete(this.require(identifier).arn);
  }
}

/** Filters, sort and pagination shared by the List operations. */
class ListQuery {
  private readonly after?: Date;
  private readonly before?: Date;
  private readonly status?: string;
  private readonly max?: number;
  private readonly offset: number;
  private readonly descending: boolean;

  constructor(
    query: URLSearchParams,
    statuses: string[],
    statusParam = 'statusEquals',
    [afterParam, beforeParam] = ['creationTimeAfter', 'creationTimeBefore'],
  ) {
    const parseTime = (name: string) => {
      const raw = query.get(name);
      if (raw === null) return undefined;
      const d = new Date(raw);
      if (Number.isNaN(d.getTime()))
        throw validation(`Value '${raw}' at '${name}' failed to satisfy constraint: Member must be a timestamp`);
      return d;
    };
    this.after = parseTime(afterParam!);
    this.before = parseTime(beforeParam!);
    const status = query.get(statusParam);
    if (status !== null && !statuses.includes(status)) {
      throw validation(
        `Value '${status}' at '${statusParam}' failed to satisfy constraint: Member must satisfy enum value set: [${statuses.join(', ')}]`,
      );
    }
    this.status = status ?? undefined;
    const max = query.get('maxResults');
    if (max !== null) {
      const n = Number(max);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw validation(
          `Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 1000`,
        );
      this.max = n;
    }
    const token = query.get('nextToken');
    this.offset = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
    if (!Number.isInteger(this.offset) || this.offset < 0) throw validation('The provided nextToken is invalid.');
    const order = query.get('sortOrder');
    if (order !== null && order !== 'Ascending' && order !== 'Descending') {
      throw validation(
        `Value '${order}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]`,
      );
    }
    this.descending = order !== 'Ascending';
  }

  matchesTime(d: Date): boolean {
    return (!this.after || d > this.after) && (!this.before || d < this.before);
  }

  matchesStatus(s: string): boolean {
    return !this.status || s === this.status;
  }

  /**
   * The default page size is not documented (docs/bedrock-api.md §14 item 10): without maxResults everything comes
   * back.
   * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListModelCustomizationJobs.html
   */
  paginate<T>(items: T[], time: (item: T) => Date): { page: T[]; nextToken?: string } {
    const sorted = [...items].sort((a, b) => (time(a).getTime() - time(b).getTime()) * (this.descending ? -1 : 1));
    const end = this.max === undefined ? sorted.length : this.offset + this.max;
    const page = sorted.slice(this.offset, end);
    return end < sorted.length ? { page, nextToken: Buffer.from(String(end)).toString('base64url') } : { page };
  }
}
