/**
 * One benchmark case, in its own process so its peak RSS is its own. Prints one JSON line.
 *   core <file> [workers]   plan + transform + split on local files (the data preparation core), chunks in
 *                           `workers` threads (1: all in this thread)
 *   stack <file>    upload to the local stack's S3 and wait for split to finish (ingest, transform, split Lambdas)
 */
import type { Readable } from 'node:stream';
import { statSync, createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { currentPrepare, runCounts } from '../shared/runs/record';
import { printCase } from './case-output';
import { core } from './core-case';

const [mode, file, workersArg] = process.argv.slice(2) as [string, string, string | undefined];
const bytes = statSync(file).size;
type Body = Buffer | Readable;

async function stack() {
  let startStack: typeof import('../local/stack').startStack;
  try {
    ({ startStack } = await import('../local/stack'));
  } catch {
    return { skipped: 'local stack not available' };
  }
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { DeleteMessageBatchCommand, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
  const { makeDocumentClient } = await import('../shared/aws/clients');
  const { sampleJsonl } = await import('../local/sample/generate');
  const { DynamoRunStore } = await import('../shared/runs/dynamo-run-store');
  // retryDelaySeconds: a chunk that reaches transform before ingest has moved the run to preparing (ingest queues the
  // chunks first) is retried after a second, not after the transform queue's 30-minute visibility timeout.
  const s = await startStack({ functions: ['ingest', 'transform', 'split'], retryDelaySeconds: 1 });
  try {
    const runs = new DynamoRunStore(makeDocumentClient(s.clients.dynamodb), s.tableName());
    const bucket = s.bucketName('DatasetsBucket');
    // The run's end is read from the pipeline's notifications (run.status.changed, published at every change of
    // status), by long polls of the queue the stack subscribes to the topic, as a subscribing team would read them:
    // one request at a time to the SQS emulator (a child process), where looking at the runs every half second was
    // work for the emulated DynamoDB in the process measured.
    const notifications = s.topicSubscriberQueueUrl('RunNotificationsTopic');
    const finished = async (key: string): Promise<string> => {
      for (;;) {
        const out = await s.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: notifications, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }),
        );
        const messages = out.Messages ?? [];
        if (messages.length > 0) {
          await s.clients.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: notifications,
              Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          );
        }
        for (const m of messages) {
          const msg = JSON.parse(m.Body!) as {
            type: string;
            runId: string;
            payload: { to?: string; source?: { key?: string } };
          };
          const to = msg.payload.to;
          if (
            msg.type === 'run.status.changed' &&
            msg.payload.source?.key === key &&
            (to === 'submitting' || to === 'failed')
          )
            return msg.runId;
        }
      }
    };
    const prepare = async (key: string, body: Body, size: number) => {
      const u0 = process.hrtime.bigint();
      await s.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size }));
      const t0 = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      const uploadedAt = Date.now();
      const runId = await finished(key);
      const cpu = process.cpuUsage(cpu0);
      const run = (await runs.get(runId))!;
      // Where the time went, from the run's history: ingest (to preparing), transforms (to splitting), split.
      const events = await runs.listEvents(run.runId);
      const at = (to: string) => Date.parse(events.find((e) => e.to === to)?.at ?? '');
      const seconds = (at(run.status) - uploadedAt) / 1000;
      const created = Date.parse(run.createdAt);
      const phases = {
        notifyToCreated: (created - uploadedAt) / 1000,
        ingest: (at('preparing') - created) / 1000,
        transform: (at('splitting') - at('preparing')) / 1000,
        split: (at(run.status) - at('splitting')) / 1000,
      };
      // CPU of every thread of the stack's process (functions and emulators; the SQS emulator is a child process).
      const cpuSeconds = Math.round((cpu.user + cpu.system) / 1e4) / 100;
      return {
        records: runCounts(run)?.input,
        chunks: currentPrepare(run)?.plan?.chunks,
        seconds,
        cpuSeconds,
        phases,
        uploadSeconds: Number(t0 - u0) / 1e9,
        status: run.status,
        counts: runCounts(run),
      };
    };
    // A warm-up run on the 401-record sample first, as a deployed pipeline's functions are warm: the first invocation
    // of each function pays for its SDK clients' first connections and for compiling the hot code, which is not the
    // data path the case measures. Its time is printed too.
    // The sample is cut into as many chunks as transform has environments (one a core), so every environment the
    // measured run may use is warm, as in a pipeline that has been taking runs.
    const sample = Buffer.from(sampleJsonl());
    const warmUpConfig = { prep: { chunkBytes: Math.ceil(sample.length / availableParallelism()) } };
    await s.clients.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'datasets/bench/warm-up.jsonl.run.json',
        Body: JSON.stringify(warmUpConfig),
      }),
    );
    const warmUp = await prepare('datasets/bench/warm-up.jsonl', sample, sample.length);
    const measured = await prepare(`datasets/bench/${path.basename(file)}`, createReadStream(file), bytes);
    return { ...measured, warmUpSeconds: warmUp.seconds };
  } finally {
    await s.stop();
  }
}

printCase(bytes, () => (mode === 'core' ? core(file, workersArg) : stack()));
