import { appendFileSync } from 'node:fs';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import {
  BedrockClient,
  ListModelCustomizationJobsCommand,
  ListProvisionedModelThroughputsCommand,
  type ModelCustomizationJobSummary,
  type ProvisionedModelSummary,
} from '@aws-sdk/client-bedrock';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startStack, LOCAL_CREDENTIALS, type Stack, type StackOptions } from '../../local/stack';
import { DynamoRunStore } from '../../shared/runs/dynamo-run-store';
import type { Run, RunEvent } from '../../shared/runs/run';
import { isTerminal } from '../../shared/runs/status';
import { runCounts } from '../../shared/runs/record';
import type { RunConfigInput } from '../../shared/config/run-config';

/**
 * The whole pipeline in the local stack, with what the reliability suite asks of it: uploads that start runs, the
 * runs' end states, their artifacts as bytes, every dead-letter queue, and Bedrock's own list of jobs and throughputs
 * (the emulator's, so a second job or throughput bought by mistake shows even if the run record never heard of it).
 */
export interface Rig {
  stack: Stack;
  store: DynamoRunStore;
  datasets: string;
  artifacts: string;
  /** Uploads a dataset (its sidecar configuration first, as a data team would) and returns its key. */
  upload(key: string, body: string | Buffer, config?: RunConfigInput): Promise<string>;
  /** The run an upload started, once it has ended (throws at the timeout, naming the last status seen). */
  endedRunOf(key: string, timeoutMs?: number): Promise<Run>;
  /** Every run record started from this key (a duplicate run shows here). */
  runsOf(key: string): Promise<Run[]>;
  allRuns(): Promise<Run[]>;
  events(runId: string): Promise<RunEvent[]>;
  /** A run's artifacts, key (relative to the run's prefix) to bytes. */
  artifactBytes(runId: string): Promise<Map<string, Buffer>>;
  /** Every message in every dead-letter queue, with the queue and the reason the pipeline attached. */
  deadLetters(): Promise<DeadLetter[]>;
  jobsOf(runId: string): Promise<ModelCustomizationJobSummary[]>;
  throughputsOf(runId: string): Promise<ProvisionedModelSummary[]>;
  /** Waits until no function runs and every queue is empty (for `quietMs` in a row). */
  settle(timeoutMs?: number, quietMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface DeadLetter {
  queue: string;
  body: string;
  reason?: string;
}

export async function startRig(opts: StackOptions = {}): Promise<Rig> {
  const stack = await startStack({ retryDelaySeconds: 1, waitTimeSeconds: 1, ...opts });
  const db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
  const table = stack.tableName('RunsTable');
  const store = new DynamoRunStore(db, table);
  const datasets = stack.bucketName('DatasetsBucket');
  const artifacts = stack.bucketName('ArtifactsBucket');
  const bedrock = new BedrockClient({
    endpoint: stack.endpoints.bedrock,
    region: stack.topology.region,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const dlqs = Object.values(stack.topology.queues)
    .filter((q) => Object.values(stack.topology.queues).some((o) => o.redrive?.deadLetterLogicalId === q.logicalId))
    .map((q) => q.logicalId);

  const allRuns = async (): Promise<Run[]> => {
    const out: Run[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: 'sk = :run',
          ExpressionAttributeValues: { ':run': 'RUN' },
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...((page.Items ?? []) as Run[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  };
  const runsOf = async (key: string) =>
    (await allRuns()).filter((r) => r.source.bucket === datasets && r.source.key === key);

  const queueDepth = async (logicalId: string) => {
    const a = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queueUrl(logicalId),
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
  const workQueues = Object.values(stack.topology.queues)
    .filter((q) => !dlqs.includes(q.logicalId))
    .map((q) => q.logicalId);

  const deadLetters = async (): Promise<DeadLetter[]> => {
    const out: DeadLetter[] = [];
    for (const q of dlqs) {
      // Read without deleting: a short visibility timeout lets a later look see them again.
      const seen = new Set<string>();
      for (;;) {
        const got = await stack.clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.queueUrl(q),
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 2,
            MessageAttributeNames: ['All'],
          }),
        );
        const fresh = (got.Messages ?? []).filter((m) => !seen.has(m.MessageId!));
        if (fresh.length === 0) break;
        for (const m of fresh) {
          seen.add(m.MessageId!);
          out.push({ queue: q, body: m.Body ?? '', reason: m.MessageAttributes?.['btp-error']?.StringValue });
        }
      }
    }
    return out;
  };

  return {
    stack,
    store,
    datasets,
    artifacts,
    async upload(key, body, config) {
      if (config) {
        await stack.clients.s3.send(
          new PutObjectCommand({ Bucket: datasets, Key: `${key}.run.json`, Body: JSON.stringify(config) }),
        );
      }
      await stack.clients.s3.send(new PutObjectCommand({ Bucket: datasets, Key: key, Body: body }));
      return key;
    },
    async endedRunOf(key, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      let last: Run | undefined;
      while (Date.now() < end) {
        last = (await runsOf(key))[0];
        if (last) last = await store.get(last.runId);
        if (last && isTerminal(last.status)) return last;
        await sleep(200);
      }
      const events = last ? (await store.listEvents(last.runId)).map((e) => e.type).join(', ') : '';
      throw new Error(
        `the run of ${key} did not end within ${timeoutMs} ms (last status: ${last?.status ?? 'none'}; ` +
          `events: ${events}; provision: ${JSON.stringify(last?.provision)}; ` +
          `dead letters: ${JSON.stringify(await deadLetters())})`,
      );
    },
    runsOf,
    allRuns,
    events: (runId) => store.listEvents(runId),
    async artifactBytes(runId) {
      const prefix = `runs/${runId}/`;
      const out = new Map<string, Buffer>();
      let token: string | undefined;
      do {
        const page = await stack.clients.s3.send(
          new ListObjectsV2Command({ Bucket: artifacts, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          const got = await stack.clients.s3.send(new GetObjectCommand({ Bucket: artifacts, Key: o.Key! }));
          out.set(o.Key!.slice(prefix.length), Buffer.from(await got.Body!.transformToByteArray()));
        }
        token = page.NextContinuationToken;
      } while (token);
      return out;
    },
    deadLetters,
    async jobsOf(runId) {
      const out = await bedrock.send(new ListModelCustomizationJobsCommand({ nameContains: runId, maxResults: 100 }));
      return out.modelCustomizationJobSummaries ?? [];
    },
    async throughputsOf(runId) {
      const out = await bedrock.send(
        new ListProvisionedModelThroughputsCommand({ nameContains: runId, maxResults: 100 }),
      );
      return out.provisionedModelSummaries ?? [];
    },
    async settle(timeoutMs = 30_000, quietMs = 1500) {
      const end = Date.now() + timeoutMs;
      let quietSince: number | undefined;
      while (Date.now() < end) {
        const depths = await Promise.all(workQueues.map(queueDepth));
        const quiet = stack.idle() && depths.every((d) => d === 0);
        if (!quiet) quietSince = undefined;
        else if (quietSince === undefined) quietSince = Date.now();
        else if (Date.now() - quietSince >= quietMs) return;
        await sleep(200);
      }
      throw new Error(`the stack did not settle within ${timeoutMs} ms`);
    },
    async stop() {
      bedrock.destroy();
      await stack.stop();
    },
  };
}

/** The figures line of an area: on stdout (with the test's output) and in the file CI may keep, if one is named. */
export function figure(line: string): void {
  process.stdout.write(`${line}\n`);
  if (process.env.BTP_RELIABILITY_FIGURES) appendFileSync(process.env.BTP_RELIABILITY_FIGURES, `${line}\n`);
}

/**
 * A run's artifacts as the pipeline wrote them, with what differs between two runs of the same bytes under different
 * keys made equal: the run id, the key, times, Bedrock's resource ids. What Bedrock writes (the job's output folder:
 * metrics the emulator makes up per job) is not the pipeline's and is left out; the report (report.html, report.md)
 * tells the run's own story (how long each step took, its retries) and is compared for its presence only.
 */
export function normalizeArtifacts(run: Run, files: Map<string, Buffer>): Map<string, string> {
  const ids = new Map<string, string>();
  const idOf = (id: string) => {
    if (!ids.has(id)) ids.set(id, `<id${ids.size}>`);
    return ids.get(id)!;
  };
  const norm = (s: string) =>
    s
      .replaceAll(run.runId, '<run>')
      .replaceAll(run.source.key, '<key>')
      .replaceAll(encodeURIComponent(run.source.key), '<key>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(
        /(model-customization-job[/-]|custom-model\/[^/"]+\/|provisioned-model\/)([a-z0-9]{12})/g,
        (_, p, id) => `${p}${idOf(id)}`,
      );
  const out = new Map<string, string>();
  for (const [key, bytes] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (/^report\.(html|md)$/.test(key)) out.set(key, 'present');
    else if (!/^stages\/\d+\/output\//.test(key)) out.set(norm(key), norm(bytes.toString('utf8')));
  }
  return out;
}

/**
 * What is wrong with a run that should have ended as the reference run of the same bytes did: its status, its counts,
 * its artifacts, a second run of the same upload, a job or throughput more or less than the reference bought.
 */
export async function differencesFrom(
  rig: Rig,
  reference: { run: Run; artifacts: Map<string, string> },
  run: Run,
): Promise<string[]> {
  const problems: string[] = [];
  const name = run.source.key;
  if (run.status !== reference.run.status) problems.push(`${name}: ${run.status} ${run.failure?.reason ?? ''}`);
  const counts = countsAddUp(run);
  if (counts) problems.push(counts);
  if (JSON.stringify(runCounts(run)) !== JSON.stringify(runCounts(reference.run)))
    problems.push(`${name}: counts differ`);
  const got = normalizeArtifacts(run, await rig.artifactBytes(run.runId));
  for (const [key, text] of reference.artifacts) {
    const mine = got.get(key);
    if (mine !== text) problems.push(`${name}: ${key} ${mine === undefined ? 'missing' : firstDifference(text, mine)}`);
  }
  for (const key of got.keys()) if (!reference.artifacts.has(key)) problems.push(`${name}: extra artifact ${key}`);
  const runs = (await rig.runsOf(name)).length;
  if (runs !== 1) problems.push(`${name}: ${runs} runs`);
  const [jobs, refJobs] = await Promise.all([rig.jobsOf(run.runId), rig.jobsOf(reference.run.runId)]);
  if (jobs.length !== refJobs.length) problems.push(`${name}: ${jobs.length} jobs`);
  const [tps, refTps] = await Promise.all([rig.throughputsOf(run.runId), rig.throughputsOf(reference.run.runId)]);
  if (tps.length !== refTps.length) problems.push(`${name}: ${tps.length} throughputs`);
  return problems;
}

/** Where two texts first differ, by line, each side cut short: enough to tell a reordering from a failed call. */
function firstDifference(expected: string, got: string): string {
  const a = expected.split('\n');
  const b = got.split('\n');
  const line = a.findIndex((l, i) => l !== b[i]);
  const at = line < 0 ? a.length : line;
  const cut = (l: string | undefined) => (l === undefined ? '(none)' : l.length > 300 ? `${l.slice(0, 300)}...` : l);
  return `differs at line ${at + 1}: expected ${cut(a[at])}, got ${cut(b[at])}`;
}

/** input = kept + filtered + rejected, kept = train + validation + test, and the reasons add up to what was dropped. */
export function countsAddUp(run: Run): string | undefined {
  const c = runCounts(run);
  if (!c) return `${run.runId}: no counts`;
  if (c.input !== c.kept + c.filtered + c.rejected) return `${run.runId}: input ${c.input} != kept+filtered+rejected`;
  const sets = (c.train ?? 0) + (c.validation ?? 0) + (c.test ?? 0);
  if (c.train !== undefined && sets > c.kept) return `${run.runId}: sets ${sets} > kept ${c.kept}`;
  const byReason = Object.values(c.byReason).reduce((a, b) => a + b, 0);
  if (byReason !== c.filtered + c.rejected) return `${run.runId}: reasons ${byReason} != filtered+rejected`;
  return undefined;
}

/** A small seeded generator (mulberry32), so a failing seed can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits for a run's report (written when the run's end is announced), failing with the run at the timeout. */
export async function reportOf(rig: Rig, run: Run, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await rig.artifactBytes(run.runId)).has('report.md')) return;
    await sleep(500);
  }
  const now = await rig.store.get(run.runId);
  throw new Error(`${run.source.key}: no report in ${timeoutMs} ms (unannounced: ${JSON.stringify(now?.unannounced)})`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
