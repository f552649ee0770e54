import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface FunctionRuntime {
  /** Runs the handler once with an event, as Lambda's Invoke would, in the function's own worker thread. */
  invoke(event: unknown, timeoutMs?: number): Promise<unknown>;
  close(): Promise<void>;
}

export interface FunctionDefinition {
  key: string;
  name: string;
  bundlePath: string;
  exportName: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  region: string;
  accountId: string;
  /** Injected crashes (the reliability suite): asked before each invocation where, if anywhere, to kill it. */
  faults?: FaultHook;
}

/** Where an invocation dies: at its Nth AWS SDK call (from 1), before the request leaves or as its response arrives. */
export interface CrashPoint {
  atCall: number;
  when: 'before' | 'after';
  /** Counts only the calls of this operation (`PutItem`, `SendMessage`: named by DynamoDB's and SQS's X-Amz-Target). */
  operation?: string;
}

export interface FaultHook {
  /** Asked before each invocation of a function; a crash point kills that invocation's environment there. */
  plan(functionKey: string, event: unknown): CrashPoint | undefined;
  /**
   * Told after each invocation: the SDK calls it made (up to the crash, if one fired) and the crash point that fired.
   */
  done?(functionKey: string, outcome: { sdkCalls: number; crashed?: CrashPoint }): void;
}

/** The exit code lambda-worker.js ends an environment with when an injected crash point is reached. */
const INJECTED_CRASH_EXIT = 86;

/**
 * Starts a function's execution environments: worker threads with the function's environment variables, as many as
 * `environments` (default 1), all started at once. An invocation goes to an idle environment, as Lambda runs one
 * invocation per environment at a time, so invocations really run in parallel (a chunk's transform is CPU work); when
 * all are busy, to the least busy one. Started at once: with environments started as invocations arrived, transform
 * took chunks before ingest had moved the run to preparing (seen on a 650 MB input, not with environments started up
 * front), and those chunks then waited out the queue's visibility timeout. An environment whose thread dies (an
 * injected crash, an uncaught error) fails its invocations with Lambda's `Runtime.ExitError` and is replaced by a
 * fresh one, as Lambda resets an environment after its runtime exits.
 */
export function startFunction(def: FunctionDefinition & { environments?: number }): FunctionRuntime {
  const max = Math.max(1, def.environments ?? 1);
  const envs: Environment[] = [];
  let closing = false;
  const replace = (dead: Environment) => {
    const i = envs.indexOf(dead);
    if (i >= 0 && !closing) envs[i] = startEnvironment(def, replace);
  };
  const timedOut = (env: Environment) => {
    if (env.crashed) return;
    env.crashed = Object.assign(new Error('Runtime exited: the invocation timed out'), { name: 'Runtime.ExitError' });
    for (const p of env.pending.values()) p.reject(env.crashed, 0, false);
    env.pending.clear();
    replace(env);
    void env.worker.terminate();
  };
  const pick = (): Environment => {
    const live = envs.filter((e) => !e.crashed);
    const idle = live.find((e) => e.pending.size === 0);
    if (idle) return idle;
    return (live.length ? live : envs).reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  };
  while (envs.length < max) envs.push(startEnvironment(def, replace));
  return {
    invoke(event, timeoutMs = def.timeoutSeconds * 1000) {
      const env = pick();
      if (env.crashed) return Promise.reject(env.crashed);
      const id = randomUUID();
      const context = {
        functionName: def.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: `arn:aws:lambda:${def.region}:${def.accountId}:function:${def.name}`,
        memoryLimitInMB: String(def.memoryMb),
        awsRequestId: id,
        logGroupName: `/aws/lambda/${def.name}`,
        logStreamName: `local/${id}`,
      };
      const fault = def.faults?.plan(def.key, event);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          env.pending.delete(id);
          reject(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`));
          // Lambda stops a timed-out invocation and resets its environment: the handler must not go on writing
          // after its message was given back (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
          timedOut(env);
        }, timeoutMs);
        const settle = (sdkCalls: number, crashed: boolean) => {
          clearTimeout(timer);
          if (crashed && fault) def.faults?.done?.(def.key, { sdkCalls: fault.atCall, crashed: fault });
          else def.faults?.done?.(def.key, { sdkCalls });
        };
        env.pending.set(id, {
          resolve: (v, sdkCalls) => (settle(sdkCalls, false), resolve(v)),
          reject: (e, sdkCalls, crashed) => (settle(sdkCalls, crashed), reject(e)),
        });
        env.worker.postMessage({ id, event, context, timeoutMs, fault });
      });
    },
    async close() {
      closing = true;
      await Promise.all(envs.map((e) => e.worker.terminate()));
    },
  };
}

interface Pending {
  resolve: (v: unknown, sdkCalls: number) => void;
  reject: (e: Error, sdkCalls: number, crashed: boolean) => void;
}

interface Environment {
  worker: Worker;
  pending: Map<string, Pending>;
  crashed?: Error;
}

function startEnvironment(def: FunctionDefinition, onDeath: (env: Environment) => void): Environment {
  const worker = new Worker(path.join(__dirname, 'lambda-worker.js'), {
    workerData: { bundlePath: def.bundlePath, exportName: def.exportName },
    env: def.environment,
  });
  const env: Environment = { worker, pending: new Map() };
  worker.on(
    'message',
    (msg: {
      id: string;
      ok: boolean;
      result?: unknown;
      sdkCalls?: number;
      error?: { name: string; message: string; stack?: string };
    }) => {
      const p = env.pending.get(msg.id);
      if (!p) return;
      env.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result, msg.sdkCalls ?? 0);
      else
        p.reject(
          Object.assign(new Error(msg.error?.message), { name: msg.error?.name ?? 'Error', stack: msg.error?.stack }),
          msg.sdkCalls ?? 0,
          false,
        );
    },
  );
  const die = (err: Error, injected: boolean) => {
    if (env.crashed) return;
    env.crashed = err;
    for (const p of env.pending.values()) p.reject(err, 0, injected);
    env.pending.clear();
    onDeath(env);
  };
  worker.on('error', (err) => die(err, false));
  worker.on('exit', (code) => {
    const injected = code === INJECTED_CRASH_EXIT;
    const why = injected ? 'an injected crash' : `exit status ${code}`;
    die(Object.assign(new Error(`Runtime exited with error: ${why}`), { name: 'Runtime.ExitError' }), injected);
  });
  return env;
}

export interface EventSourceMappingOptions {
  sqs: SQSClient;
  fn: FunctionRuntime;
  functionName: string;
  queueUrl: string;
  queueArn: string;
  region: string;
  batchSize: number;
  batchingWindowSeconds: number;
  maximumConcurrency: number;
  /**
   * A fast clock for failed records: when set, a record that failed becomes visible again after this many seconds
   * instead of after the queue's whole visibility timeout (up to 90 minutes here). Unset: Lambda's real behaviour.
   */
  retryDelaySeconds?: number;
  /** Long-poll wait, in seconds (Lambda uses 20). */
  waitTimeSeconds?: number;
  /**
   * How many times each batch is delivered (the reliability suite; default 1): SQS delivers at least once, so a
   * handler must do the same thing whether it sees a message once or several times, even at the same moment.
   */
  deliveries?: () => number;
  onInvoke?: (info: { functionName: string; records: number; failed: number; error?: Error }) => void;
}

export interface EventSourceMapping {
  stop(): Promise<void>;
  /** Resolves when no invocation is running and the last receive found the queue empty. */
  idle(): boolean;
}

/**
 * Lambda's SQS event source mapping: pollers long-poll the queue, gather up to `batchSize` records within the
 * batching window, invoke the function with the event Lambda builds, delete the records that succeeded and leave
 * the failed ones (`batchItemFailures`, or all of them when the function throws or times out) to reappear after
 * the visibility timeout, until the queue's redrive policy moves them to the dead-letter queue. At most
 * `maximumConcurrency` invocations run at once.
 */
export function startEventSourceMapping(opts: EventSourceMappingOptions): EventSourceMapping {
  const abort = new AbortController();
  let running = 0;
  let lastReceiveEmpty = true;
  const pollers: Promise<void>[] = [];
  const waitTimeSeconds = opts.waitTimeSeconds ?? 20;

  const receiveBatch = async (): Promise<Message[]> => {
    const messages: Message[] = [];
    const deadline = Date.now() + opts.batchingWindowSeconds * 1000;
    let first = true;
    while (messages.length < opts.batchSize && !abort.signal.aborted) {
      const remainingMs = deadline - Date.now();
      if (!first && remainingMs <= 0) break;
      const out = await opts.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: opts.queueUrl,
          MaxNumberOfMessages: Math.min(10, opts.batchSize - messages.length),
          WaitTimeSeconds: first ? waitTimeSeconds : Math.min(20, Math.max(0, Math.floor(remainingMs / 1000))),
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      );
      first = false;
      const got = out.Messages ?? [];
      messages.push(...got);
      if (got.length === 0 && (opts.batchingWindowSeconds === 0 || messages.length > 0)) break;
      if (opts.batchingWindowSeconds === 0) break;
    }
    return messages;
  };

  const poll = async () => {
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        messages = await receiveBatch();
      } catch {
        if (abort.signal.aborted) return;
        await sleep(200); // the queue service is restarting or briefly unreachable: poll again, as Lambda does
        continue;
      }
      lastReceiveEmpty = messages.length === 0;
      if (messages.length === 0) continue;
      running++;
      try {
        await invokeBatch(messages);
      } finally {
        running--;
      }
    }
  };

  const invokeBatch = async (messages: Message[]) => {
    const event: SQSEvent = { Records: messages.map((m) => toLambdaRecord(m, opts.queueArn, opts.region)) };
    const once = async (): Promise<{ failedIds: Set<string>; error?: Error }> => {
      try {
        const response = (await opts.fn.invoke(event)) as SQSBatchResponse | null;
        return { failedIds: failuresOf(response, messages) };
      } catch (err) {
        return { failedIds: new Set(messages.map((m) => m.MessageId!)), error: err as Error };
      }
    };
    // Copies beyond the first: the second at the same moment (two pollers got the message), the rest after.
    const copies = Math.max(1, opts.deliveries?.() ?? 1);
    const outcomes = await Promise.all(copies >= 2 ? [once(), once()] : [once()]);
    for (let i = 2; i < copies; i++) outcomes.push(await once());
    // The original delivery decides what is deleted; the copies only have to do no harm.
    const { failedIds } = outcomes[0]!;
    for (const o of outcomes)
      opts.onInvoke?.({
        functionName: opts.functionName,
        records: messages.length,
        failed: o.failedIds.size,
        error: o.error,
      });
    const succeeded = messages.filter((m) => !failedIds.has(m.MessageId!));
    const failed = messages.filter((m) => failedIds.has(m.MessageId!));
    if (succeeded.length > 0) {
      await opts.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: succeeded.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    if (failed.length > 0 && opts.retryDelaySeconds !== undefined) {
      await opts.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: failed.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle!,
            VisibilityTimeout: opts.retryDelaySeconds,
          })),
        }),
      );
    }
  };

  for (let i = 0; i < Math.max(1, opts.maximumConcurrency); i++) pollers.push(poll());

  return {
    idle: () => running === 0 && lastReceiveEmpty,
    async stop() {
      abort.abort();
      await Promise.allSettled(pollers);
    },
  };
}

/**
 * Lambda reads `batchItemFailures`; an identifier that is empty or not in the batch makes it treat the whole batch
 * as failed, and so does a response that is not of the expected shape... except null or an empty object, which
 * mean that everything succeeded.
 */
export function failuresOf(response: SQSBatchResponse | null | undefined, messages: Message[]): Set<string> {
  const all = new Set(messages.map((m) => m.MessageId!));
  if (response === null || response === undefined || typeof response !== 'object') return new Set();
  const items = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return all;
  const ids = new Set<string>();
  for (const item of items) {
    const id = (item as { itemIdentifier?: unknown })?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    ids.add(id);
  }
  return ids;
}

/** The record Lambda builds from an SQS message. */
export function toLambdaRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const attrs = m.Attributes ?? {};
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, v] of Object.entries(m.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: v.StringValue,
      binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : undefined,
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: v.DataType!,
    };
  }
  const attributes: Record<string, string> = {
    ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
    SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
    SenderId: attrs.SenderId ?? 'AIDALOCALSTACK',
    ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
  for (const key of [
    'AWSTraceHeader',
    'SequenceNumber',
    'MessageGroupId',
    'MessageDeduplicationId',
    'DeadLetterQueueSourceArn',
  ]) {
    if (attrs[key as keyof typeof attrs]) attributes[key] = attrs[key as keyof typeof attrs]!;
  }
  const record: SQSRecord = {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: attributes as unknown as SQSRecord['attributes'],
    messageAttributes,
    md5OfBody: m.MD5OfBody!,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
  if (m.MD5OfMessageAttributes)
    (record as SQSRecord & { md5OfMessageAttributes: string }).md5OfMessageAttributes = m.MD5OfMessageAttributes;
  return record;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
