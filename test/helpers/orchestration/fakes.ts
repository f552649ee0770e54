import { buildSend, type Publish } from '../../../shared/messages/send';
import { MemoryRunStore } from '../memory-run-store';
import { QUEUE_URLS } from '../prep/memory';
import { preparedSets } from '../prep/prepared-sets';
import { resolveRunConfig, type RunConfigInput } from '../../../shared/config/run-config';
import type { Envelope } from '../../../shared/messages/envelope';
import { stageKeys } from '../../../shared/runs/keys';
import type { CostEstimate } from '../../../shared/orchestration/cost';
import { Run, type JobRecord, type RunCounts, type StageState } from '../../../shared/runs/run';
import { findByInferenceId } from '../../../shared/catalog';
import {
  BedrockCallError,
  type BedrockPort,
  type CreateDeploymentRequest,
  type CreateJobRequest,
  type CreateThroughputRequest,
  type DeploymentView,
  type JobView,
  type ObjectStore,
  type OrchestrationDeps,
  type OrchestrationSettings,
  type ThroughputView,
} from '../../../shared/orchestration/ports';

export { MemoryRunStore };

interface FakeJob extends JobView {
  request: CreateJobRequest;
}

/**
 * A Bedrock fake: token and name idempotency as the API notes describe (docs/bedrock-api.md §5), scripted errors and
 * job states.
 */
export class FakeBedrock implements BedrockPort {
  readonly jobs = new Map<string, FakeJob>();
  readonly throughputs = new Map<string, ThroughputView & { request: CreateThroughputRequest; deleted?: boolean }>();
  readonly calls: string[] = [];
  /** Errors thrown by the next calls of an operation, in order. */
  readonly failNext: Record<string, Error[]> = {};
  private seq = 0;
  constructor(private readonly now: () => Date = () => new Date()) {}

  private maybeFail(op: string) {
    this.calls.push(op);
    const err = this.failNext[op]?.shift();
    if (err) throw err;
  }
  async createJob(req: CreateJobRequest) {
    this.maybeFail('createJob');
    const existing = this.jobs.get(req.jobName);
    if (existing) {
      if (existing.request.clientRequestToken === req.clientRequestToken) return existing.jobArn;
      throw new BedrockCallError('name-in-use', 'ValidationException', 'The provided job name is currently in use.');
    }
    const id = `job${String(++this.seq).padStart(9, '0')}`;
    const jobArn = `arn:aws:bedrock:us-east-1:000000000000:model-customization-job/amazon.titan-text-lite-v1:0:4k/${id}`;
    this.jobs.set(req.jobName, {
      jobArn,
      jobName: req.jobName,
      status: 'InProgress',
      validationLosses: [],
      creationTime: this.now(),
      request: req,
      hyperParameters: req.hyperParameters,
    });
    return jobArn;
  }
  async getJob(id: string) {
    this.maybeFail('getJob');
    const job = [...this.jobs.values()].find((j) => j.jobArn === id || j.jobName === id);
    if (!job) throw new BedrockCallError('not-found', 'ResourceNotFoundException', `job ${id} not found`);
    return { ...job };
  }
  async stopJob(id: string) {
    this.maybeFail('stopJob');
    const job = [...this.jobs.values()].find((j) => j.jobArn === id || j.jobName === id);
    if (!job) throw new BedrockCallError('not-found', 'ResourceNotFoundException', 'not found');
    if (job.status !== 'InProgress') throw new BedrockCallError('conflict', 'ConflictException', 'not in progress');
    job.status = 'Stopped';
  }
  complete(jobName: string, patch: Partial<JobView> = {}) {
    const job = this.jobs.get(jobName)!;
    Object.assign(
      job,
      {
        status: 'Completed',
        outputModelArn: `arn:aws:bedrock:us-east-1:000000000000:custom-model/amazon.titan-text-lite-v1:0:4k/mdl${job.jobArn.slice(-9)}`,
        endTime: this.now(),
        trainingLoss: 1.5,
        validationLosses: [1.7],
      },
      patch,
    );
    return job;
  }
  fail(jobName: string, failureMessage: string) {
    Object.assign(this.jobs.get(jobName)!, { status: 'Failed', failureMessage, endTime: this.now() });
  }
  async createThroughput(req: CreateThroughputRequest) {
    this.maybeFail('createThroughput');
    const existing = [...this.throughputs.values()].find((t) => t.name === req.name && !t.deleted);
    if (existing) return existing.arn;
    const arn = `arn:aws:bedrock:us-east-1:000000000000:provisioned-model/pt${String(++this.seq).padStart(10, '0')}`;
    this.throughputs.set(arn, {
      arn,
      name: req.name,
      status: 'Creating',
      modelArn: req.modelId,
      request: req,
      commitmentDuration: req.commitmentDuration,
    });
    return arn;
  }
  async getThroughput(id: string) {
    this.maybeFail('getThroughput');
    const t = this.throughputs.get(id) ?? [...this.throughputs.values()].find((x) => x.name === id);
    if (!t || t.deleted) throw new BedrockCallError('not-found', 'ResourceNotFoundException', 'not found');
    return { ...t };
  }
  async deleteThroughput(id: string) {
    this.maybeFail('deleteThroughput');
    const t = this.throughputs.get(id);
    if (!t || t.deleted) throw new BedrockCallError('not-found', 'ResourceNotFoundException', 'not found');
    t.deleted = true;
  }
  /** Custom model deployments, by ARN; a deleted one stays, marked. */
  readonly deployments = new Map<string, DeploymentView & { request: CreateDeploymentRequest; deleted?: boolean }>();
  async createDeployment(req: CreateDeploymentRequest) {
    this.maybeFail('createDeployment');
    const existing = [...this.deployments.values()].find((d) => d.name === req.name && !d.deleted);
    if (existing) return existing.arn;
    const arn = `arn:aws:bedrock:us-east-1:000000000000:custom-model-deployment/od${String(++this.seq).padStart(10, '0')}`;
    this.deployments.set(arn, { arn, name: req.name, status: 'Creating', modelArn: req.modelArn, request: req });
    return arn;
  }
  async getDeployment(id: string) {
    this.maybeFail('getDeployment');
    const d = this.deployments.get(id) ?? [...this.deployments.values()].find((x) => x.name === id && !x.deleted);
    if (!d || d.deleted) throw new BedrockCallError('not-found', 'ResourceNotFoundException', 'not found');
    return { ...d };
  }
  async deleteDeployment(id: string) {
    this.maybeFail('deleteDeployment');
    const d = this.deployments.get(id);
    if (!d || d.deleted) throw new BedrockCallError('not-found', 'ResourceNotFoundException', 'not found');
    d.deleted = true;
  }
  /** Custom models deleted, in order. */
  readonly deletedModels: string[] = [];
  async deleteCustomModel(modelArn: string) {
    this.maybeFail('deleteCustomModel');
    if (this.deletedModels.includes(modelArn))
      throw new BedrockCallError('not-found', 'ResourceNotFoundException', 'not found');
    this.deletedModels.push(modelArn);
  }
  /** What a provisioned model answers; by default `answer to <prompt>`. */
  answer: (modelId: string, prompt: string) => string = (_modelId, prompt) => `answer to ${prompt}`;
  /** Prompts sent to InvokeModel, in order. */
  readonly invocations: Array<{ modelId: string; prompt: string; maxTokenCount: number }> = [];
  /** What a base model answers on demand (by its catalog inference id); by default `base answer to <prompt>`. */
  baseAnswer: (modelId: string, prompt: string) => string = (_modelId, prompt) => `base answer to ${prompt}`;
  async invokeText(modelId: string, prompt: string, maxTokenCount: number) {
    this.maybeFail('invokeText');
    if (findByInferenceId(modelId)) {
      this.invocations.push({ modelId, prompt, maxTokenCount });
      return { text: this.baseAnswer(modelId, prompt) };
    }
    const d = this.deployments.get(modelId);
    if (d && !d.deleted && d.status === 'Active') {
      this.invocations.push({ modelId, prompt, maxTokenCount });
      return { text: this.answer(modelId, prompt) };
    }
    const t = this.throughputs.get(modelId);
    if (!t || t.deleted)
      throw new BedrockCallError(
        'not-found',
        'ResourceNotFoundException',
        `The provisioned model ${modelId} could not be found.`,
      );
    if (t.status !== 'InService')
      throw new BedrockCallError('validation', 'ValidationException', `The provisioned model ${t.name} is not ready.`);
    this.invocations.push({ modelId, prompt, maxTokenCount });
    return { text: this.answer(modelId, prompt) };
  }
  live() {
    return [...this.throughputs.values()].filter((t) => !t.deleted);
  }
}

export class MemoryObjects implements ObjectStore {
  readonly files = new Map<string, string>();
  put(bucket: string, key: string, text: string) {
    this.files.set(`${bucket}/${key}`, text);
  }
  async getText(bucket: string, key: string) {
    return this.files.get(`${bucket}/${key}`);
  }
  async listKeys(bucket: string, prefix: string) {
    return [...this.files.keys()]
      .filter((k) => k.startsWith(`${bucket}/${prefix}`))
      .map((k) => k.slice(bucket.length + 1));
  }
  async *lines(bucket: string, key: string) {
    const text = this.files.get(`${bucket}/${key}`);
    if (text === undefined) throw new Error(`no such object ${key}`);
    for (const line of text.split('\n')) if (line !== '') yield line;
  }
  async putText(bucket: string, key: string, text: string) {
    this.put(bucket, key, text);
  }
}

export interface Sent {
  queueUrl: string;
  message: Envelope;
  delaySeconds?: number;
}

/**
 * The 2024 recipe's model, which tests about Titan pin (the default is Nova now): Titan Text G1 - Lite with the
 * recipe's hyperparameters. Such tests read the catalog at TITAN_RECIPE_DATE, when Titan was active.
 */
export const TITAN_2024: RunConfigInput = {
  training: {
    baseModelId: 'amazon.titan-text-lite-v1:0:4k',
    hyperParameters: { epochCount: '1', batchSize: '1', learningRate: '0.00001' },
  },
};

export const SETTINGS: OrchestrationSettings = {
  artifactsBucket: 'artifacts',
  bedrockRoleArn: 'arn:aws:iam::000000000000:role/btp-bedrock',
  pollSeconds: 300,
  maxPollSeconds: 900,
  throughputPollSeconds: 120,
  queuedRetrySeconds: 600,
  maxQueuedRetrySeconds: 900,
  throttleRetrySeconds: 30,
  maxRetrySeconds: 300,
  maxThrottleRetries: 3,
  staleAfterSeconds: 1800,
  timeScale: 1,
  minTtlSeconds: 0,
};

export function makeWorld(start = new Date('2026-01-01T00:00:00Z')) {
  const clock = { t: start.getTime() };
  const now = () => new Date(clock.t);
  const runs = new MemoryRunStore(now);
  const bedrock = new FakeBedrock(now);
  const objects = new MemoryObjects();
  const sent: Sent[] = [];
  const publish: Publish = async (queueUrl, message, opts) => {
    sent.push({ queueUrl, message, ...(opts?.delaySeconds !== undefined ? { delaySeconds: opts.delaySeconds } : {}) });
  };
  /** Figures counted (metrics), in order. */
  const figures: Array<[string, number]> = [];
  const deps: OrchestrationDeps = {
    runs,
    bedrock,
    objects,
    send: buildSend(publish, QUEUE_URLS, now),
    count: (figure, value) => void figures.push([figure, value]),
    settings: SETTINGS,
    now,
    random: () => 0.5,
  };
  const advance = (seconds: number) => {
    clock.t += seconds * 1000;
  };
  /** Removes and returns the messages sent so far (optionally of one type). */
  const take = (type?: string): Sent[] => {
    const out = sent.filter((s) => !type || s.message.type === type);
    for (const s of out) sent.splice(sent.indexOf(s), 1);
    return out;
  };
  return { deps, runs, bedrock, objects, sent, figures, take, advance, now };
}

const fmt = (i: number) => ({ prompt: `質問 ${i}: これは何ですか？`, completion: `答え ${i}: テストです。` });

/** Writes a small prepared dataset and its manifest, as the split step leaves them. */
export function putPrepared(
  objects: MemoryObjects,
  runId: string,
  opts: { train?: number; validation?: number; test?: number; longRecordTokens?: number; config?: RunConfigInput } = {},
) {
  const train = Array.from({ length: opts.train ?? 20 }, (_, i) => fmt(i));
  if (opts.longRecordTokens) train.push({ prompt: 'あ'.repeat(opts.longRecordTokens), completion: 'い' });
  const validation = Array.from({ length: opts.validation ?? 5 }, (_, i) => fmt(100 + i));
  const test = Array.from({ length: opts.test ?? 0 }, (_, i) => fmt(200 + i));
  for (const o of preparedSets(runId, resolveRunConfig(opts.config ?? {}), { train, validation, test }))
    objects.put('artifacts', o.key, o.body);
}

/** A run as data preparation leaves it: in `submitting`, with counts. */
export function makeRun(runId: string, config: RunConfigInput = {}, now = new Date('2026-01-01T00:00:00Z')): Run {
  const at = now.toISOString();
  return {
    runId,
    status: 'submitting',
    version: 3,
    createdAt: at,
    updatedAt: at,
    source: { bucket: 'datasets', key: 'datasets/dolly.jsonl' },
    config: resolveRunConfig(config),
    artifactsPrefix: `s3://artifacts/runs/${runId}/`,
    stages: [
      preparedStage(runId, {
        input: 25,
        kept: 25,
        filtered: 0,
        rejected: 0,
        byReason: {},
        train: 20,
        validation: 5,
        test: 0,
      }),
    ],
  };
}

/** Stage 0 as the split records it: done, with its counts and the keys of its prepared sets. */
export function preparedStage(runId: string, counts: RunCounts, at = '2026-01-01T00:00:00.000Z'): StageState {
  const keys = stageKeys(runId, 0);
  const file = (set: 'train' | 'validation' | 'test') => ({ key: keys.prepared(set), records: counts[set] ?? 0 });
  return {
    prepare: {
      status: 'done',
      endedAt: at,
      counts,
      split: {
        startedAt: at,
        manifestKey: keys.manifest,
        train: file('train'),
        validation: file('validation'),
        test: file('test'),
        rejects: { key: keys.rejects, records: counts.filtered + counts.rejected },
      },
    },
    jobs: [],
  };
}

/**
 * A run's stage 0 as the steps record it, for tests that move a run through the store by hand: planned into
 * `chunks`, prepared with `counts`, a preflight's cost estimate, and the job as far as `job` says.
 */
export function stage0(
  runId: string,
  r: { chunks?: number; counts?: RunCounts; costEstimateUsd?: number; job?: Partial<JobRecord> },
): StageState[] {
  const stage = r.counts ? preparedStage(runId, r.counts) : { prepare: { status: 'running' as const }, jobs: [] };
  if (r.chunks)
    stage.prepare.plan = { format: 'jsonl', compression: 'none', encoding: 'utf-8', bytes: 0, chunks: r.chunks };
  if (r.costEstimateUsd === undefined && !r.job) return [stage];
  const keys = stageKeys(runId, 0);
  const usd = r.costEstimateUsd ?? 0;
  const costEstimate: CostEstimate = {
    currency: 'USD',
    modelId: 'amazon.titan-text-lite-v1:0:4k',
    trainingTokens: 0,
    epochs: 1,
    trainingUsd: usd,
    storageUsdPerMonth: null,
    throughputUsdPerHour: null,
    throughputHours: 0,
    totalUsd: usd,
    unknown: [],
    unconfirmed: [],
  };
  const train = { key: keys.prepared('train'), records: r.counts?.train ?? 0, bytes: 0, tokens: 0, maxRecordTokens: 0 };
  const job: JobRecord = {
    status: 'running',
    attempt: 1,
    preflight: { attempt: 1, manifestKey: keys.manifest, train, warnings: [], costEstimate },
    ...r.job,
  };
  return [{ ...stage, jobs: [job] }];
}
