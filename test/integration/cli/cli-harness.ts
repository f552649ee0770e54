import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Stack } from '../../../local/stack';
import { RunConfig } from '../../../shared/config/run-config';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import type { Run } from '../../../shared/runs/run';
import { resolveNames, STEPS, type CliContext } from '../../../cli/context';
import type { Io } from '../../../cli/io';
import { runCli } from '../../../cli/program';

/** The environment `npm run stack` writes, from a running stack. */
export function stackEnv(stack: Stack): Record<string, string> {
  const env: Record<string, string> = {
    ...stack.clientEnv,
    BTP_RUNS_TABLE: stack.tableName('RunsTable'),
    BTP_DATASETS_BUCKET: stack.bucketName('DatasetsBucket'),
    BTP_ARTIFACTS_BUCKET: stack.bucketName('ArtifactsBucket'),
  };
  for (const step of STEPS) {
    const id = step[0]!.toUpperCase() + step.slice(1);
    env[`BTP_${step.toUpperCase()}_QUEUE_URL`] = stack.queueUrl(`${id}Queue`);
    env[`BTP_${step.toUpperCase()}_DLQ_URL`] = stack.queueUrl(`${id}DLQ`);
  }
  return env;
}

export interface Fakes {
  deleted: string[];
  answers: boolean[];
  /** ARNs Bedrock no longer has (deleted by hand): deleting them fails as Bedrock does. */
  gone?: string[];
  /** What `btp chat` and `btp invoke` sent, when recorded. */
  invoked?: Array<{ modelId: string; prompt: string }>;
}

const notFound = (arn: string) =>
  Object.assign(new Error(`${arn} was not found`), { name: 'ResourceNotFoundException' });

/**
 * A CLI context on the stack's own clients, with Bedrock deletions recorded instead of sent (or failed as not found).
 */
export function stackContext(stack: Stack, fakes: Fakes): CliContext {
  const db = DynamoDBDocumentClient.from(stack.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const names = resolveNames(stackEnv(stack), {}, stack.clients.sqs);
  const catalogDate = stack.clientEnv.BTP_CATALOG_DATE;
  return {
    names,
    ...(catalogDate ? { catalogDate } : {}),
    db,
    runs: new DynamoRunStore(db, names.table),
    s3: stack.clients.s3,
    sqs: stack.clients.sqs,
    bedrock: {
      deleteThroughput: async (arn) => {
        if (fakes.gone?.includes(arn)) throw notFound(arn);
        fakes.deleted.push(`throughput ${arn}`);
      },
      deleteDeployment: async (arn) => {
        if (fakes.gone?.includes(arn)) throw notFound(arn);
        fakes.deleted.push(`deployment ${arn}`);
      },
      deleteCustomModel: async (arn) => {
        if (fakes.gone?.includes(arn)) throw notFound(arn);
        fakes.deleted.push(`model ${arn}`);
      },
      invokeText: async (modelId, prompt) => {
        fakes.invoked?.push({ modelId, prompt });
        // as the local Bedrock emulator answers: with its note that no model ran
        return { text: `answer to ${prompt}`, emulated: 'Bedrock emulator: no model ran' };
      },
    },
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 100))),
    close: () => undefined,
  };
}

/** Runs `btp <args>` in-process; returns its exit code and what it wrote. */
export async function btp(stack: Stack, fakes: Fakes, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    interactive: false,
    confirm: async () => fakes.answers.shift() ?? false,
  };
  const code = await runCli(args, { io, context: () => stackContext(stack, fakes) });
  return {
    code,
    stdout: out.join('\n'),
    stderr: err.join('\n'),
    json: <T = Record<string, unknown>>() => JSON.parse(out.join('\n')) as T,
  };
}

export const seedRun = (stack: Stack, runId: string, over: Partial<Run> = {}): Run => {
  const now = new Date().toISOString();
  return {
    runId,
    status: 'requested',
    version: 1,
    createdAt: now,
    updatedAt: now,
    source: { bucket: stack.bucketName('DatasetsBucket'), key: `datasets/${runId}.jsonl` },
    config: RunConfig.parse({}),
    artifactsPrefix: `s3://${stack.bucketName('ArtifactsBucket')}/runs/${runId}/`,
    stages: [],
    ...over,
  };
};
