import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BedrockClient,
  DeleteCustomModelCommand,
  DeleteCustomModelDeploymentCommand,
  DeleteProvisionedModelThroughputCommand,
} from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildInvokeText } from '../shared/orchestration/bedrock-adapter';
import type { BedrockPort, InvokedText } from '../shared/orchestration/ports';
import type { ModelFamily } from '../shared/catalog/models';
import { catalogDateSetting } from '../shared/catalog/lifecycle';
import { DynamoRunStore } from '../shared/runs/dynamo-run-store';
import { CliError } from './io';

/** The pipeline's steps, each with a queue `<stack>-<step>` and a dead-letter queue `<stack>-<step>-dlq`. */
export const STEPS = ['ingest', 'transform', 'split', 'submit', 'monitor', 'provision', 'evaluate', 'report'] as const;
export type Step = (typeof STEPS)[number];

/** The resources a command works on, however they were found (env of the local stack, or a deployed stage). */
export interface Names {
  table: string;
  datasetsBucket: string;
  artifactsBucket: string;
  queueUrl(step: Step): Promise<string>;
  dlqUrl(step: Step): Promise<string>;
  /** Where these are: `local stack` or `stage dev (us-east-1)`, for messages. */
  where: string;
}

/** What a command may use: ports over the AWS clients, and the names of the stack's resources. */
export interface CliContext {
  names: Names;
  db: DynamoDBDocumentClient;
  runs: DynamoRunStore;
  s3: S3Client;
  sqs: SQSClient;
  bedrock: {
    deleteThroughput(arn: string): Promise<void>;
    deleteDeployment(arn: string): Promise<void>;
    deleteCustomModel(arn: string): Promise<void>;
    /** Text generation on a served model (`btp chat`, `btp invoke`), in its family's request and response shapes. */
    invokeText(modelId: string, prompt: string, maxTokenCount: number, family?: ModelFamily): Promise<InvokedText>;
  };
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  close(): void;
  /** The env file the endpoints came from (`.local/stack.env` of a local stack), to name it when nothing answers. */
  envFile?: string;
  /**
   * The day the model catalog's lifecycle is read at (`YYYY-MM-DD`): the local stack's BTP_CATALOG_DATE when it plays
   * an earlier Bedrock (`npm run stack -- --catalog-date`), else today.
   */
  catalogDate?: string;
}

export interface GlobalOptions {
  endpointEnv?: string;
  stage?: string;
  region?: string;
  profile?: string;
  account?: string;
}

export const SERVICE = 'bedrock-tuning-pipeline';
export const DEFAULT_LOCAL_ENV = '.local/stack.env';

/** A dotenv file as written by `npm run stack` (KEY=VALUE lines; `#` comments). */
export function readEnvFile(file: string): Record<string, string> {
  if (!existsSync(file))
    throw new CliError(
      `no environment file ${file}`,
      'start the local stack with `npm run stack`, or pass --stage for a deployed one',
      2,
    );
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

/** The env file the endpoints and names come from, if any (see resolveEnv). */
export function envFileOf(opts: GlobalOptions, env: NodeJS.ProcessEnv, cwd = process.cwd()): string | undefined {
  const local = path.join(cwd, DEFAULT_LOCAL_ENV);
  return (
    opts.endpointEnv ??
    env.BTP_ENDPOINT_ENV ??
    (!opts.stage && !env.BTP_RUNS_TABLE && existsSync(local) ? local : undefined)
  );
}

/**
 * The environment the CLI runs in: `--endpoint-env <file>` (or BTP_ENDPOINT_ENV) on top of the process's; with
 * neither a stage nor table names set, the local stack's `.local/stack.env` when it exists.
 */
export function resolveEnv(opts: GlobalOptions, env: NodeJS.ProcessEnv, cwd = process.cwd()): NodeJS.ProcessEnv {
  const file = envFileOf(opts, env, cwd);
  const merged: NodeJS.ProcessEnv = { ...env, ...(file ? readEnvFile(file) : {}) };
  if (opts.region) merged.AWS_REGION = opts.region;
  if (opts.profile) merged.AWS_PROFILE = opts.profile;
  return merged;
}

/**
 * `IngestQueue`'s URL from env: BTP_INGEST_QUEUE_URL (the functions' names) or BTP_QUEUE_INGEST_QUEUE_URL (older env
 * files).
 */
const queueEnv = (env: NodeJS.ProcessEnv, step: Step, dlq: boolean) => {
  const id = `${step.toUpperCase()}_${dlq ? 'DLQ' : 'QUEUE'}`;
  return env[`BTP_${id}_URL`] ?? env[`BTP_QUEUE_${id}_URL`];
};

/** Resource names from env, else from the stage's naming in serverless.yml (`bedrock-tuning-pipeline-<stage>-...`). */
export function resolveNames(env: NodeJS.ProcessEnv, opts: GlobalOptions, sqs: SQSClient): Names {
  const stage = opts.stage ?? env.BTP_STAGE;
  const stack = stage ? `${SERVICE}-${stage}` : undefined;
  const account = opts.account ?? env.BTP_ACCOUNT_ID ?? env.AWS_ACCOUNT_ID;
  const need = (what: string, value: string | undefined, fromStage: (() => string | undefined) | undefined): string => {
    const v = value ?? fromStage?.();
    if (!v) {
      throw new CliError(
        `the ${what} is not known`,
        stack
          ? `pass --account <id> (or set BTP_ACCOUNT_ID) so bucket names can be derived for stage ${stage}`
          : 'start the local stack with `npm run stack` (it writes .local/stack.env), pass --endpoint-env <file>, or pass --stage <stage> for a deployed one',
        2,
      );
    }
    return v;
  };
  const queueUrls = new Map<string, Promise<string>>();
  const lookup = (step: Step, dlq: boolean): Promise<string> => {
    const fromEnv = queueEnv(env, step, dlq);
    if (fromEnv) return Promise.resolve(fromEnv);
    const name = `${need('queue', undefined, stack ? () => stack : undefined)}-${step}${dlq ? '-dlq' : ''}`;
    if (!queueUrls.has(name)) {
      queueUrls.set(
        name,
        sqs.send(new GetQueueUrlCommand({ QueueName: name })).then(
          (o) => o.QueueUrl!,
          (err: Error) => {
            throw new CliError(
              `queue ${name} was not found (${err.name})`,
              `check --stage ${stage} and --region, and that the stack is deployed`,
            );
          },
        ),
      );
    }
    return queueUrls.get(name)!;
  };
  // Lazy: a command that never touches a bucket must not fail for want of the account id.
  let table: string | undefined, datasets: string | undefined, artifacts: string | undefined;
  return {
    get table() {
      return (table ??= need('runs table', env.BTP_RUNS_TABLE, stack ? () => `${stack}-runs` : undefined));
    },
    get datasetsBucket() {
      return (datasets ??= need(
        'datasets bucket',
        env.BTP_DATASETS_BUCKET,
        stack && account ? () => `${stack}-datasets-${account}` : undefined,
      ));
    },
    get artifactsBucket() {
      return (artifacts ??= need(
        'artifacts bucket',
        env.BTP_ARTIFACTS_BUCKET,
        stack && account ? () => `${stack}-artifacts-${account}` : undefined,
      ));
    },
    queueUrl: (step) => lookup(step, false),
    dlqUrl: (step) => lookup(step, true),
    where:
      stage && !env.AWS_ENDPOINT_URL_DYNAMODB
        ? `stage ${stage} (${env.AWS_REGION ?? 'default region'})`
        : env.AWS_ENDPOINT_URL_DYNAMODB
          ? `local stack (${env.AWS_ENDPOINT_URL_DYNAMODB})`
          : 'the configured AWS account',
  };
}

/**
 * Clients with the SDK's own configuration chain, fed the resolved env explicitly (endpoints, region, profile), so
 * the same commands reach the local stack or AWS.
 */
export function buildContext(opts: GlobalOptions, processEnv: NodeJS.ProcessEnv = process.env): CliContext {
  const env = resolveEnv(opts, processEnv);
  // The SDK reads AWS_PROFILE, credentials and endpoint variables from process.env.
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && (k.startsWith('AWS_') || k.startsWith('BTP_'))) process.env[k] = v;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const local = !!env.AWS_ENDPOINT_URL_S3;
  const s3 = new S3Client({ region, forcePathStyle: local || undefined });
  const sqs = new SQSClient({ region });
  const dynamodb = new DynamoDBClient({ region });
  const db = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const names = resolveNames(env, opts, sqs);
  let bedrock: BedrockClient | undefined;
  const br = () => (bedrock ??= new BedrockClient({ region }));
  let runtime: BedrockRuntimeClient | undefined;
  let invokeText: NonNullable<BedrockPort['invokeText']> | undefined;
  const catalogDate = catalogDateSetting(env);
  return {
    names,
    envFile: envFileOf(opts, processEnv),
    ...(catalogDate ? { catalogDate } : {}),
    db,
    get runs() {
      return new DynamoRunStore(db, names.table);
    },
    s3,
    sqs,
    bedrock: {
      deleteThroughput: async (arn) =>
        void (await br().send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: arn }))),
      deleteDeployment: async (arn) =>
        void (await br().send(new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }))),
      deleteCustomModel: async (arn) => void (await br().send(new DeleteCustomModelCommand({ modelIdentifier: arn }))),
      invokeText: (modelId, prompt, maxTokenCount, family) =>
        (invokeText ??= buildInvokeText((runtime = new BedrockRuntimeClient({ region }))))(
          modelId,
          prompt,
          maxTokenCount,
          family,
        ),
    },
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    close: () => {
      s3.destroy();
      sqs.destroy();
      dynamodb.destroy();
      bedrock?.destroy();
      runtime?.destroy();
    },
  };
}
