import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { buildMessage } from '../messages/envelope';
import { RunStatusChanged, type RunRejected } from '../messages/notifications';
import { lastSubmittedJob, runCounts } from './record';
import type { ChunkResult, Run, RunEvent } from './run';
import type { RunStatus } from './status';
import { patchOf, type RunPatch, type RunStore, type WriteOptions } from './store';

/** What the pipeline publishes on its notifications topic (docs/messages). */
export type Notification = RunStatusChanged | RunRejected;

/**
 * The notification port: publishes one notification, with attributes a subscriber may filter on beside the ones
 * every notification carries.
 */
export type Notify = (message: Notification, attributes?: Record<string, string>) => Promise<void>;

/**
 * Attributes a subscriber can filter on (an SNS subscription filter policy on `to`, say) without reading the body:
 * the type, the run, a status change's `to`, and the ids of the `run.requested` that started the run
 * (`requestRunId`, `requestCorrelationId`), so a team can follow its own requests.
 */
const attributesOf = (m: Notification, extra: Record<string, string> = {}) => {
  const values: Record<string, string> = { type: m.type, runId: m.runId, ...extra };
  if (m.type === 'run.status.changed') values.to = m.payload.to;
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
};

/** The attributes naming the request that started a run, when one did. */
export const requestAttributes = (request: Run['request']): Record<string, string> =>
  request ? { requestRunId: request.runId, requestCorrelationId: request.correlationId } : {};

/** SNS adapter: the deployed pipeline publishes to the topic in BTP_NOTIFICATIONS_TOPIC_ARN. */
export const buildSnsNotify =
  (sns: SNSClient, topicArn: string): Notify =>
  async (m, attributes) => {
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify(m),
        MessageAttributes: attributesOf(m, attributes),
      }),
    );
  };

/** SQS adapter: the local stack has no SNS, so notifications go straight to a queue (BTP_NOTIFICATIONS_QUEUE_URL). */
export const buildSqsNotify =
  (sqs: SQSClient, queueUrl: string): Notify =>
  async (m, attributes) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(m),
        MessageAttributes: attributesOf(m, attributes),
      }),
    );
  };

/** The Notify adapter the environment asks for: the topic if one is set, else the queue, else none. */
export function notifyFromEnv(
  env: NodeJS.ProcessEnv,
  clients: { sns: () => SNSClient; sqs: () => SQSClient },
): Notify | undefined {
  if (env.BTP_NOTIFICATIONS_TOPIC_ARN) return buildSnsNotify(clients.sns(), env.BTP_NOTIFICATIONS_TOPIC_ARN);
  if (env.BTP_NOTIFICATIONS_QUEUE_URL) return buildSqsNotify(clients.sqs(), env.BTP_NOTIFICATIONS_QUEUE_URL);
  return undefined;
}

type EventInput = { type: string; detail?: Record<string, unknown> };

export interface NotifyingRunStoreOptions {
  /**
   * Called when a notification could not be published. The state change is already written and stays: the table is
   * the source of truth, and failing the step would not help (its redelivery finds the transition made and stops),
   * so the error is reported (logged, counted) instead of thrown.
   */
  onError?: (err: Error, run: { runId: string; to: RunStatus }) => void;
  now?: () => Date;
}

/**
 * A RunStore that publishes `run.status.changed` after every successful status change (a created run, a
 * transition); `update` changes no status and publishes nothing. A transition that loses its race returns
 * `undefined` from the inner store and publishes nothing, so each change is announced by the writer that made it.
 */
export class NotifyingRunStore implements RunStore {
  constructor(
    private readonly inner: RunStore,
    private readonly notify: Notify,
    private readonly opts: NotifyingRunStoreOptions = {},
  ) {}

  async create(run: Run, event: EventInput): Promise<boolean> {
    const marked: Run = { ...run, unannounced: { to: run.status, event: event.type } };
    const created = await this.inner.create(marked, event);
    if (created && (await this.publish(marked, undefined, event.type, run.createdAt))) await this.clear(marked);
    return created;
  }

  get(runId: string): Promise<Run | undefined> {
    return this.inner.get(runId);
  }

  async transition(
    runId: string,
    from: RunStatus | readonly RunStatus[],
    to: RunStatus,
    patch: RunPatch,
    event: EventInput,
    opts?: WriteOptions,
  ): Promise<Run | undefined> {
    // The change is marked unannounced in its own write, and the mark cleared once published: a crash in between
    // (the function killed, a timeout) leaves the mark, and the sweeper publishes it (announce, below). Without it,
    // a run's end could go unheard, and its report never written: the redelivered message finds the run moved on.
    const unannounced = { to, event: event.type, ...(typeof from === 'string' ? { from } : {}) };
    const marked: RunPatch =
      typeof patch === 'function'
        ? (current) => ({ ...patchOf(patch, current), unannounced })
        : { ...patch, unannounced };
    const next = await this.inner.transition(runId, from, to, marked, event, opts);
    if (!next) return undefined;
    const previous = await this.previousStatus(next, from);
    if (!(await this.publish(next, previous, event.type, next.updatedAt))) return next;
    return (await this.clear(next)) ?? next;
  }

  async announce(run: Run): Promise<boolean> {
    const mark = run.unannounced;
    if (!mark || mark.to !== run.status) return false;
    const from = mark.from ?? (await this.inner.listEvents(run.runId)).findLast((e) => e.to === run.status)?.from;
    if (!(await this.publish(run, from, mark.event, run.updatedAt))) return false;
    await this.clear(run);
    return true;
  }

  /** Clears the unannounced mark while the run is still in the status that was announced. */
  private clear(run: Run): Promise<Run | undefined> {
    return this.inner.update(run.runId, run.status, { unannounced: undefined }, undefined, { seen: run });
  }

  update(
    runId: string,
    inStatus: RunStatus | readonly RunStatus[],
    patch: RunPatch,
    event?: EventInput,
    opts?: WriteOptions,
  ): Promise<Run | undefined> {
    return this.inner.update(runId, inStatus, patch, event, opts);
  }

  putChunk(chunk: ChunkResult): Promise<boolean> {
    return this.inner.putChunk(chunk);
  }

  hasChunk(runId: string, stage: number, index: number): Promise<boolean> {
    return this.inner.hasChunk(runId, stage, index);
  }

  listChunks(runId: string, stage: number): Promise<ChunkResult[]> {
    return this.inner.listChunks(runId, stage);
  }

  listEvents(runId: string): Promise<RunEvent[]> {
    return this.inner.listEvents(runId);
  }

  listByStatus(status: RunStatus, since?: string): Promise<Run[]> {
    return this.inner.listByStatus(status, since);
  }

  /** With several allowed `from`s, the run's event of this version says which one it was in. */
  private async previousStatus(next: Run, from: RunStatus | readonly RunStatus[]): Promise<RunStatus | undefined> {
    if (typeof from === 'string') return from;
    if (from.length === 1) return from[0];
    const events = await this.inner.listEvents(next.runId);
    return events.find((e) => e.seq === next.version)?.from;
  }

  /** Whether it was published. */
  private async publish(run: Run, from: RunStatus | undefined, eventType: string, at: string): Promise<boolean> {
    try {
      await this.notify(this.build(run, from, eventType, at), requestAttributes(run.request));
      return true;
    } catch (err) {
      (this.opts.onError ?? defaultOnError)(err as Error, { runId: run.runId, to: run.status });
      return false;
    }
  }

  /** The correlation id is the run and version, so a subscriber can drop a duplicate delivery. */
  private build(run: Run, from: RunStatus | undefined, eventType: string, at: string): RunStatusChanged {
    return buildMessage(
      RunStatusChanged,
      run.runId,
      {
        from,
        to: run.status,
        at,
        version: run.version,
        event: eventType,
        source: { bucket: run.source.bucket, key: run.source.key },
        artifactsPrefix: run.artifactsPrefix,
        failure: run.status === 'failed' ? run.failure : undefined,
        counts: runCounts(run),
        jobArn: lastSubmittedJob(run)?.jobArn,
        modelArn: run.modelArn,
        provisionedModelArn: run.provisionedModelArn,
        deploymentArn: run.deploymentArn,
        gate: run.gate && { decision: run.gate.decision, reasons: run.gate.reasons },
      },
      `${run.runId}:${run.version}`,
      this.opts.now,
    );
  }
}

const defaultOnError = (err: Error, run: { runId: string; to: RunStatus }) =>
  console.error(
    JSON.stringify({
      level: 'ERROR',
      message: 'run notification not published',
      runId: run.runId,
      to: run.to,
      error: err.message,
    }),
  );

/** Wraps a store when the environment configures notifications; returns it unchanged otherwise. */
export const withNotifications = (
  store: RunStore,
  notify: Notify | undefined,
  opts?: NotifyingRunStoreOptions,
): RunStore => (notify ? new NotifyingRunStore(store, notify, opts) : store);
