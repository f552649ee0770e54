import type { BedrockClient } from '@aws-sdk/client-bedrock';
import { InvokeModelCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type * as ControlPlaneModule from '../aws/bedrock-control-plane';
import type { ModelFamily } from '../catalog/models';
import {
  BedrockCallError,
  type BedrockErrorKind,
  type BedrockPort,
  type DeploymentStatus,
  type JobStatus,
  type ThroughputStatus,
} from './ports';

const tags = (t: Record<string, string> | undefined) =>
  t ? Object.entries(t).map(([key, value]) => ({ key, value })) : undefined;

/**
 * Maps an SDK error (its `name` is the service's error code, docs/bedrock-api.md §1.1) to the orchestration's error
 * kinds.
 */
export function toBedrockCallError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { $fault?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  let kind: BedrockErrorKind | undefined;
  switch (e.name) {
    case 'ServiceQuotaExceededException':
      kind = 'quota';
      break;
    case 'ThrottlingException':
    case 'TooManyRequestsException':
      kind = 'throttled';
      break;
    case 'AccessDeniedException':
      kind = 'access-denied';
      break;
    case 'ValidationException':
      // The duplicate-name refusal is a ValidationException too (docs/bedrock-api.md §1.3); it means "already created".
      kind = /job name is currently in use/i.test(e.message) ? 'name-in-use' : 'validation';
      break;
    case 'ConflictException':
      kind = 'conflict';
      break;
    case 'ResourceNotFoundException':
      kind = 'not-found';
      break;
    default:
      if (status === 429) kind = 'throttled';
      else if (e.$fault === 'server' || (status !== undefined && status >= 500)) kind = 'transient';
      else if (status === undefined && isNetworkError(e)) kind = 'transient';
  }
  return kind ? new BedrockCallError(kind, e.name, e.message) : err;
}

/**
 * No answer at all: the SDK's request or connection timeout (TimeoutError), a connection refused, reset or cut, a
 * name that did not resolve. Nothing reached Bedrock or its answer was lost; the call's idempotency (the job's name
 * and token, the throughput's) makes trying again safe.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
function isNetworkError(e: Error & { code?: string }): boolean {
  return e.name === 'TimeoutError' || (e.code !== undefined && NETWORK_CODES.has(e.code));
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toBedrockCallError(err);
  }
}

/** The control plane as the port sends to it: its client, and the module of the commands it sends. */
export interface ControlPlane {
  client: BedrockClient;
  sdk: typeof ControlPlaneModule;
}

/**
 * The Bedrock port over the control-plane client: jobs and throughputs. Given a loader instead of the control plane,
 * the port loads it at its first call, once (again after a failed load): a function that rarely calls the control
 * plane passes `() => import('../aws/bedrock-control-plane')...`, which keeps the client's code out of its start
 * (ports-from-env.ts, bedrockOnFirstCall).
 */
export function buildBedrockPort(controlPlane: ControlPlane | (() => Promise<ControlPlane>)): BedrockPort {
  let loading: Promise<ControlPlane> | undefined;
  const connect = async (): Promise<ControlPlane> => {
    if (typeof controlPlane !== 'function') return controlPlane;
    loading ??= controlPlane().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  return {
    createJob: (r) =>
      call(async () => {
        const { client, sdk } = await connect();
        const out = await client.send(
          new sdk.CreateModelCustomizationJobCommand({
            jobName: r.jobName,
            customModelName: r.customModelName,
            roleArn: r.roleArn,
            clientRequestToken: r.clientRequestToken,
            baseModelIdentifier: r.baseModelIdentifier,
            customizationType: r.customizationType,
            trainingDataConfig: { s3Uri: r.trainingS3Uri },
            validationDataConfig: r.validationS3Uri ? { validators: [{ s3Uri: r.validationS3Uri }] } : undefined,
            outputDataConfig: { s3Uri: r.outputS3Uri },
            hyperParameters: r.hyperParameters,
            jobTags: tags(r.tags),
            customModelTags: tags(r.tags),
          }),
        );
        return out.jobArn!;
      }),
    getJob: (id) =>
      call(async () => {
        const { client, sdk } = await connect();
        const j = await client.send(new sdk.GetModelCustomizationJobCommand({ jobIdentifier: id }));
        return {
          jobArn: j.jobArn!,
          jobName: j.jobName!,
          status: (j.status ?? 'InProgress') as JobStatus,
          failureMessage: j.failureMessage,
          outputModelArn: j.outputModelArn,
          creationTime: j.creationTime,
          endTime: j.endTime,
          trainingLoss: j.trainingMetrics?.trainingLoss,
          validationLosses: (j.validationMetrics ?? [])
            .map((v) => v.validationLoss)
            .filter((v): v is number => typeof v === 'number'),
          outputS3Uri: j.outputDataConfig?.s3Uri,
          hyperParameters: j.hyperParameters,
        };
      }),
    stopJob: (id) =>
      call(async () => {
        const { client, sdk } = await connect();
        await client.send(new sdk.StopModelCustomizationJobCommand({ jobIdentifier: id }));
      }),
    createThroughput: (r) =>
      call(async () => {
        const { client, sdk } = await connect();
        const out = await client.send(
          new sdk.CreateProvisionedModelThroughputCommand({
            provisionedModelName: r.name,
            clientRequestToken: r.clientRequestToken,
            modelId: r.modelId,
            modelUnits: r.modelUnits,
            commitmentDuration: r.commitmentDuration,
            tags: tags(r.tags),
          }),
        );
        return out.provisionedModelArn!;
      }),
    getThroughput: (id) =>
      call(async () => {
        const { client, sdk } = await connect();
        const t = await client.send(new sdk.GetProvisionedModelThroughputCommand({ provisionedModelId: id }));
        return {
          arn: t.provisionedModelArn!,
          name: t.provisionedModelName!,
          status: t.status as ThroughputStatus,
          modelArn: t.modelArn!,
          failureMessage: t.failureMessage,
          commitmentDuration: t.commitmentDuration,
          commitmentExpirationTime: t.commitmentExpirationTime,
        };
      }),
    deleteThroughput: (id) =>
      call(async () => {
        const { client, sdk } = await connect();
        await client.send(new sdk.DeleteProvisionedModelThroughputCommand({ provisionedModelId: id }));
      }),
    createDeployment: (r) =>
      call(async () => {
        const { client, sdk } = await connect();
        const out = await client.send(
          new sdk.CreateCustomModelDeploymentCommand({
            modelDeploymentName: r.name,
            modelArn: r.modelArn,
            clientRequestToken: r.clientRequestToken,
            tags: tags(r.tags),
          }),
        );
        return out.customModelDeploymentArn!;
      }),
    getDeployment: (id) =>
      call(async () => {
        const { client, sdk } = await connect();
        const d = await client.send(new sdk.GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: id }));
        return {
          arn: d.customModelDeploymentArn!,
          name: d.modelDeploymentName!,
          status: d.status as DeploymentStatus,
          modelArn: d.modelArn!,
          failureMessage: d.failureMessage,
        };
      }),
    deleteDeployment: (id) =>
      call(async () => {
        const { client, sdk } = await connect();
        await client.send(new sdk.DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: id }));
      }),
    deleteCustomModel: (modelArn) =>
      call(async () => {
        const { client, sdk } = await connect();
        await client.send(new sdk.DeleteCustomModelCommand({ modelIdentifier: modelArn }));
      }),
  };
}

/**
 * Text generation on a served custom model over the runtime client, in the family's InvokeModel bodies
 * (docs/bedrock-api.md §11.2): the evaluate step's only Bedrock call, and `btp chat`'s.
 */
export function buildInvokeText(runtime: BedrockRuntimeClient): NonNullable<BedrockPort['invokeText']> {
  return (modelId, prompt, maxTokens, family = 'titan-text') =>
    call(async () => {
      const shape = INVOKE_BODIES[family];
      const out = await runtime.send(
        new InvokeModelCommand({
          modelId,
          contentType: 'application/json',
          accept: 'application/json',
          body: JSON.stringify(shape.request(prompt, maxTokens)),
        }),
      );
      const body = JSON.parse(new TextDecoder().decode(out.body)) as Record<string, unknown>;
      const note = at(body, 'emulation', 'note');
      return { text: shape.text(body), ...(typeof note === 'string' ? { emulated: note } : {}) };
    });
}

type Json = Record<string, unknown>;
const at = (v: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Json)[k] : undefined), v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Each family's InvokeModel request for one user prompt at temperature 0, and the answer text in its response (the
 * model-parameters pages: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters.html).
 */
export const INVOKE_BODIES: Record<
  ModelFamily,
  { request(prompt: string, maxTokens: number): Json; text(b: Json): string }
> = {
  'titan-text': {
    request: (inputText, maxTokenCount) => ({ inputText, textGenerationConfig: { maxTokenCount, temperature: 0 } }),
    text: (b) => str(at(b, 'results', 0, 'outputText')),
  },
  'amazon-nova': {
    request: (prompt, maxTokens) => ({
      schemaVersion: 'messages-v1',
      messages: [{ role: 'user', content: [{ text: prompt }] }],
      inferenceConfig: { maxTokens, temperature: 0 },
    }),
    text: (b) => str(at(b, 'output', 'message', 'content', 0, 'text')),
  },
  'cohere-command': {
    request: (prompt, max_tokens) => ({ prompt, max_tokens, temperature: 0 }),
    text: (b) => str(at(b, 'generations', 0, 'text')),
  },
  'meta-llama': {
    request: (prompt, max_gen_len) => ({ prompt, max_gen_len, temperature: 0 }),
    text: (b) => str(at(b, 'generation')),
  },
  'anthropic-claude': {
    request: (prompt, max_tokens) => ({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens,
      temperature: 0,
      messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }],
    }),
    text: (b) => str(at(b, 'content', 0, 'text')),
  },
};
