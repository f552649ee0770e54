import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
  type CreateModelCustomizationJobCommandInput,
  type GetModelCustomizationJobCommandOutput,
} from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { TITAN_RECIPE_DATE } from '../../../shared/catalog';
import { startS3, type S3Emulator } from '../../../local/emulators/s3';
import {
  startBedrockEmulator,
  type BedrockEmulator,
  type BedrockEmulatorOptions,
  type ModelCustomizationJobStateChange,
} from '../../../local/bedrock';

export const BUCKET = 'bedrock-data';
export const LITE = 'amazon.titan-text-lite-v1:0:4k';
export const ROLE = 'arn:aws:iam::000000000000:role/BedrockCustomization';

/** Given an S3 emulator with a bucket and a Bedrock emulator on it, the real SDK clients for both. */
export interface Stack {
  s3: S3Client;
  bedrock: BedrockClient;
  runtime: BedrockRuntimeClient;
  emulator: BedrockEmulator;
  events: ModelCustomizationJobStateChange[];
  close(): Promise<void>;
}

export async function startStack(opts: Partial<Omit<BedrockEmulatorOptions, 's3'>> = {}): Promise<Stack> {
  const s3e: S3Emulator = await startS3();
  const s3 = new S3Client({
    endpoint: s3e.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const events: ModelCustomizationJobStateChange[] = [];
  const emulator = await startBedrockEmulator({
    s3,
    simulatedHoursPerSecond: 36_000,
    // These tests are about Titan Text G1 (LITE), now at end of life: the emulator plays Bedrock as it was in 2024.
    catalogDate: TITAN_RECIPE_DATE,
    onEvent: async (e) => void events.push(e),
    ...opts,
  });
  // Any SigV4 credentials do: the emulator does not check signatures.
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'local' };
  const bedrock = new BedrockClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const runtime = new BedrockRuntimeClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
  });
  return {
    s3,
    bedrock,
    runtime,
    emulator,
    events,
    close: async () => {
      bedrock.destroy();
      runtime.destroy();
      await emulator.close();
      // s3rver's close waits for idle keep-alive connections to time out unless the client lets them go.
      s3.destroy();
      await s3e.close();
    },
  };
}

export async function putJsonl(stack: Stack, key: string, records: unknown[] | string): Promise<string> {
  const body = typeof records === 'string' ? records : records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  await stack.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return `s3://${BUCKET}/${key}`;
}

export async function getText(stack: Stack, key: string): Promise<string> {
  const got = await stack.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return got.Body!.transformToString();
}

export const promptCompletion = (
  n: number,
  make = (i: number) => ({ prompt: `質問 ${i}: 日本の首都は？`, completion: `答え ${i}: 東京です。` }),
) => Array.from({ length: n }, (_, i) => make(i));

let jobCounter = 0;
/** A valid Titan Lite fine-tuning request; `overrides` replace members. */
export function jobInput(
  trainingUri: string,
  overrides: Partial<CreateModelCustomizationJobCommandInput> = {},
): CreateModelCustomizationJobCommandInput {
  jobCounter++;
  return {
    jobName: `job-${jobCounter}`,
    customModelName: `model-${jobCounter}`,
    roleArn: ROLE,
    baseModelIdentifier: LITE,
    trainingDataConfig: { s3Uri: trainingUri },
    outputDataConfig: { s3Uri: `s3://${BUCKET}/output/` },
    hyperParameters: { epochCount: '2', batchSize: '1', learningRate: '0.00001' },
    ...overrides,
  };
}

export async function createJob(stack: Stack, input: CreateModelCustomizationJobCommandInput): Promise<string> {
  const { jobArn } = await stack.bedrock.send(new CreateModelCustomizationJobCommand(input));
  return jobArn!;
}

/** Polls GetModelCustomizationJob, as the pipeline's monitor does, until the job leaves `InProgress`/`Stopping`. */
export async function waitForJob(
  stack: Stack,
  jobArn: string,
  until: string[] = ['Completed', 'Failed', 'Stopped'],
  timeoutMs = 15_000,
): Promise<GetModelCustomizationJobCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    if (until.includes(job.status!)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobArn} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `call` and returns the service error it throws, failing the test if it succeeds. */
export async function serviceError(
  call: Promise<unknown>,
): Promise<{ name: string; message: string; status: number | undefined; fault: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as { name: string; message: string; $fault: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode, fault: e.$fault };
  }
  throw new Error('expected the call to fail, but it succeeded');
}
