import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  BedrockClient,
  DeleteCustomModelDeploymentCommand,
  GetCustomModelDeploymentCommand,
  ListModelCustomizationJobsCommand,
  ListProvisionedModelThroughputsCommand,
} from '@aws-sdk/client-bedrock';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, startStack, type Stack } from '../../../local/stack';
import { sampleJsonl } from '../../../local/sample/generate';
import { findRunBySource, followRun } from '../../../local/cli/follow';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import type { Run } from '../../../shared/runs/run';
import { buildMessage } from '../../../shared/messages/envelope';
import { RunCancel } from '../../../shared/messages/control';
import { deploymentName } from '../../../shared/orchestration/naming';

/**
 * Whole runs through the local stack (every function from its queue, the Bedrock emulator on its fast clock, the
 * sweeper on its schedule): a full throughput quota makes runs wait their turn instead of failing, and an outage of
 * every Bedrock call is ridden out by the steps' own retries.
 */
jest.setTimeout(600_000);

let stack: Stack;
let store: DynamoRunStore;
let db: DynamoDBDocumentClient;
let bedrock: BedrockClient;
beforeAll(async () => {
  stack = await startStack({ retryDelaySeconds: 1, waitTimeSeconds: 1 });
  db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
  store = new DynamoRunStore(db, stack.tableName('RunsTable'));
  bedrock = new BedrockClient({
    endpoint: stack.endpoints.bedrock,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
}, 300_000);
afterAll(async () => {
  bedrock?.destroy();
  await stack?.stop();
});
afterEach(() => stack.bedrock.faults.reset());

/** Uploads a small dataset with its configuration; the upload starts the run, as in AWS. Returns the run id. */
async function upload(name: string, config: Record<string, unknown>): Promise<string> {
  const bucket = stack.bucketName('DatasetsBucket');
  const key = `datasets/slots/${name}.jsonl`;
  const put = (Key: string, Body: string) => stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
  await put(`${key}.run.json`, JSON.stringify(config)); // the sidecar first: the dataset's notification reads it
  await put(key, sampleJsonl(120));
  for (let i = 0; i < 600; i++) {
    const run = await findRunBySource(db, stack.tableName('RunsTable'), bucket, key);
    if (run) return run.runId;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no run started from ${key}`);
}

const follow = (runId: string) => followRun(store, runId, { timeoutMs: 480_000, pollMs: 500, print: () => undefined });

const jobsOf = async (runId: string) =>
  (await bedrock.send(new ListModelCustomizationJobsCommand({ nameContains: runId }))).modelCustomizationJobSummaries ??
  [];
/** The throughputs a run recorded (concurrent copies of one delivery may each record the same one). */
const throughputsCreated = async (runId: string) =>
  new Set(
    (await store.listEvents(runId))
      .filter((e) => e.type === 'throughput.created')
      .map((e) => e.detail?.provisionedModelArn),
  ).size;

describe('a full throughput quota', () => {
  it('given 20 runs at once and a quota of 2 throughputs, every run waits its turn and succeeds', async () => {
    stack.bedrock.faults.setQuotas({ noCommitmentThroughputs: 2, concurrentJobs: 20 });
    // Each throughput lives 2 modelled hours (the default), 2 s on the fast clock but at least the local stage's
    // minTtlSeconds (10 s), then frees its slot for a waiting run.
    // (Provisioned Throughput by name: the default Nova model would be served by a deployment, which takes no slot)
    const config = { provisioning: { serving: 'provisioned-throughput', evaluateSamples: 0 } };
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => upload(`quota-${i}`, config)));
    const finals = await Promise.all(ids.map(follow));
    // A run that did not succeed is shown with its last events and what it held, so a stall says where it stopped.
    const outcome = async (r: Run | undefined) => {
      const line = `${r?.runId}: ${r?.status} ${r?.failure?.reason ?? ''}`.trim();
      if (!r || r.status === 'succeeded') return line;
      const events = (await store.listEvents(r.runId)).slice(-8).map((e) => `${e.at} ${e.type}`);
      const held = { provision: r.provision, waiting: r.waiting, arn: r.provisionedModelArn, at: r.updatedAt };
      return `${line}\n${JSON.stringify(held)}\n${events.join('\n')}`;
    };
    expect(await Promise.all(finals.map(outcome))).toEqual(ids.map((id) => `${id}: succeeded`));
    // in turn: most runs waited in `queued` for a throughput slot, and none held more than one throughput
    const waited: string[] = [];
    for (const id of ids) {
      const types = (await store.listEvents(id)).map((e) => e.type);
      if (types.includes('throughput.queued')) waited.push(id);
      expect(await throughputsCreated(id)).toBe(1);
    }
    expect(waited.length).toBeGreaterThanOrEqual(10);
  });
});

/** Polls the run until `done` holds of it (or, with `untilEnd`, it ends), and returns it. */
async function waitFor(runId: string, done: (run: Run) => boolean, untilEnd = true): Promise<Run | undefined> {
  let run: Run | undefined;
  for (let i = 0; i < 4_000; i++) {
    run = await store.get(runId);
    if (run && (done(run) || (untilEnd && ['succeeded', 'failed', 'cancelled'].includes(run.status)))) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  return run;
}

const deploymentGone = async (arn: string) =>
  bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn })).then(
    () => false,
    (err: Error) => err.name === 'ResourceNotFoundException',
  );

describe('a full custom model deployment quota', () => {
  it("given a quota of one deployment, the second run waits in queued until the first deployment is deleted, then succeeds; a cancel deletes the run's deployment too", async () => {
    stack.bedrock.faults.setQuotas({ customModelDeployments: 1, concurrentJobs: 20 });
    // The default configuration fine-tunes Nova Micro and serves it with a custom model deployment.
    const config = { provisioning: { evaluateSamples: 0 } };
    const [first, second] = await Promise.all([upload('deploy-a', config), upload('deploy-b', config)]);
    const queued = (run: Run) => run.status === 'queued' && run.waiting?.slot === 'deployment';
    // One run gets the only slot and succeeds; the other waits for it, never failed for the quota.
    const [a, b] = await Promise.all([first, second].map((id) => waitFor(id!, queued)));
    const [done, waiting] = a?.status === 'succeeded' ? [a, b] : [b, a];
    expect(done).toMatchObject({ status: 'succeeded' });
    expect(waiting).toMatchObject({
      status: 'queued',
      waiting: { slot: 'deployment', quota: { name: 'custom model deployments per account' } },
    });
    expect(waiting?.waiting?.reason).toMatch(/waits for a custom model deployment to be deleted/);
    // Still waiting after a few more retries: the slot is held until somebody deletes the deployment.
    const later = await waitFor(waiting!.runId, (run) => (run.waiting?.retries ?? 0) >= 2);
    expect(later).toMatchObject({ status: 'queued', waiting: { slot: 'deployment' } });

    await bedrock.send(
      new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: done!.deploymentArn }),
    );
    const served = await follow(waiting!.runId);
    expect(served).toMatchObject({ status: 'succeeded' });
    expect(served?.waiting).toBeUndefined();
    const types = (await store.listEvents(waiting!.runId)).map((e) => e.type);
    expect(types.filter((t) => t === 'deployment.queued')).toHaveLength(1);
    expect(types.filter((t) => t === 'deployment.created')).toHaveLength(1);

    // A run cancelled while its deployment is being created gives its slot back. The deployment is held Creating: on
    // the emulator's clock it is Active a fifth of a second after its creation, and this run (no samples to evaluate)
    // then succeeds at the next poll, so a cancel sent when a poll of the run sees the deployment could come too late.
    await bedrock.send(
      new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: served!.deploymentArn }),
    );
    const third = await upload('deploy-c', config);
    stack.bedrock.faults.holdDeployment(deploymentName(third, 0));
    const deployed = await waitFor(third, (run) => run.deploymentArn !== undefined);
    expect(deployed).toMatchObject({ status: 'provisioning' });
    expect(deployed?.deploymentArn).toBeDefined();
    const cancel = buildMessage(RunCancel, third, { reason: 'the dataset was the wrong one' });
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrl('MonitorQueue'), MessageBody: JSON.stringify(cancel) }),
    );
    const cancelled = await waitFor(third, (run) => run.provision?.deletedAt !== undefined, false);
    expect(cancelled).toMatchObject({ status: 'cancelled', provision: { deletedAt: expect.any(String) } });
    expect(await deploymentGone(deployed!.deploymentArn!)).toBe(true);
  });
});

describe('a Bedrock outage', () => {
  it('given every Bedrock call failing for 30 s as the run submits, trains and provisions, the run succeeds with one job and one throughput', async () => {
    // The throughput outlives the test: an outage of 30 real seconds is 30 hours on the emulator's clock (an hour a
    // second), so a time to live of 24 hours could end while the run's polls fail, and the expiry would delete the
    // throughput this test then lists (the run still succeeds: it was in service).
    const provisioning = { serving: 'provisioned-throughput', ttlHours: 10_000, evaluateSamples: 0 };
    // An outage of 30 real seconds (the steps' retries wait in real seconds) starts at the first call of each step:
    // submit's job creation, the monitor's first status poll, the throughput's creation. Started by the calls, not
    // by the test seeing a status, so a step that runs faster than a poll of the run still meets its outage (only the
    // monitor reads GetModelCustomizationJob in this run: submit does so after a name conflict, which needs a crash).
    const outages = [
      'CreateModelCustomizationJob',
      'GetModelCustomizationJob',
      'CreateProvisionedModelThroughput',
    ] as const;
    for (const operation of outages) stack.bedrock.faults.outage(30, 'internal', operation);
    const runId = await upload('outage', { provisioning });
    const run = await follow(runId);
    expect(run).toMatchObject({ status: 'succeeded' });
    const types = (await store.listEvents(runId)).map((e) => e.type);
    for (const step of ['submit', 'monitor', 'provision']) expect(types).toContain(`${step}.retrying`);
    expect(await jobsOf(runId)).toHaveLength(1);
    expect(await throughputsCreated(runId)).toBe(1);
    const throughputs =
      (await bedrock.send(new ListProvisionedModelThroughputsCommand({ nameContains: runId })))
        .provisionedModelSummaries ?? [];
    expect(throughputs).toHaveLength(1);
  });
});
