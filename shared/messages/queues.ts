import type * as z from 'zod';
import { JobStateChange, S3Notification, S3TestEvent } from './aws-events';
import { ModelProvision, RunCancel, RunResume } from './control';
import { InvalidMessageError, parseJson, parseMessage, type MessageDefinition, type MessageOf } from './envelope';
import { RunStatusChanged } from './notifications';
import {
  ChunkRequested,
  ChunkTransformed,
  DatasetPrepared,
  EvaluationRequested,
  JobPoll,
  JobRequested,
  JobSubmitted,
  ModelReady,
  RunRequested,
  StageRequested,
  ThroughputExpire,
  ThroughputPoll,
} from './pipeline';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMessageDefinition = MessageDefinition<string, any>;

/**
 * An AWS service's event on a queue: `is` says a body is meant to be one (it must then parse, or it is invalid).
 * `schema` gives its schema, built on first use (aws-events.ts).
 */
export interface AwsEvent<S extends z.ZodType = z.ZodType> {
  describe: string;
  is(body: Record<string, unknown>): boolean;
  schema: () => Promise<S>;
}

const awsEvent = <S extends z.ZodType>(
  describe: string,
  is: AwsEvent['is'],
  schema: () => Promise<S>,
): AwsEvent<S> => ({
  describe,
  is,
  schema,
});

interface QueueContract {
  /** The pipeline's messages the queue carries (their `type` routes them). */
  messages: readonly AnyMessageDefinition[];
  /** AWS events the queue carries, by the name a route handler takes them under. */
  events: Readonly<Record<string, AwsEvent>>;
  /** Where a sender finds the queue's URL; absent for a queue fed by a topic or a rule only. */
  urlEnv?: string;
}

/**
 * What each queue carries: one discriminated union per queue (on `type` for the pipeline's messages; AWS events are
 * told apart by their own fields). The route helper (shared/lambda/route.ts) dispatches on it, and `send` finds a
 * message's queue here, so where a message travels is written once.
 */
export const QUEUES = {
  ingest: {
    messages: [RunRequested, StageRequested],
    events: {
      'aws.s3.notification': awsEvent('an S3 event notification', (b) => 'Records' in b, S3Notification),
      'aws.s3.test': awsEvent('an s3:TestEvent', (b) => b.Event === 's3:TestEvent', S3TestEvent),
    },
    urlEnv: 'BTP_INGEST_QUEUE_URL',
  },
  transform: { messages: [ChunkRequested], events: {}, urlEnv: 'BTP_TRANSFORM_QUEUE_URL' },
  split: { messages: [ChunkTransformed], events: {}, urlEnv: 'BTP_SPLIT_QUEUE_URL' },
  submit: { messages: [DatasetPrepared, JobRequested, RunResume], events: {}, urlEnv: 'BTP_SUBMIT_QUEUE_URL' },
  monitor: {
    messages: [JobSubmitted, JobPoll, RunCancel],
    events: {
      'aws.bedrock.job-state-change': awsEvent(
        'a Bedrock job state-change event',
        (b) => b.source === 'aws.bedrock',
        JobStateChange,
      ),
    },
    urlEnv: 'BTP_MONITOR_QUEUE_URL',
  },
  provision: {
    messages: [ModelReady, ThroughputPoll, ThroughputExpire, ModelProvision],
    events: {},
    urlEnv: 'BTP_PROVISION_QUEUE_URL',
  },
  evaluate: { messages: [EvaluationRequested], events: {}, urlEnv: 'BTP_EVALUATE_QUEUE_URL' },
  /** Subscribed to the run notifications topic (raw message delivery), filtered to runs that ended. */
  report: { messages: [RunStatusChanged], events: {} },
} as const satisfies Record<string, QueueContract>;

export type QueueName = keyof typeof QUEUES;
type Contract<Q extends QueueName> = (typeof QUEUES)[Q];
type QueueDefinitions<Q extends QueueName> = Contract<Q>['messages'][number];
type QueueEvents<Q extends QueueName> = Contract<Q>['events'];

/** A queue a producer sends to (its URL is in the environment). */
export type SendQueue = { [Q in QueueName]: Contract<Q> extends { urlEnv: string } ? Q : never }[QueueName];

type EventOf<E> = E extends AwsEvent<infer S> ? z.infer<S> : never;

/** Everything a queue carries: its messages (discriminated on `type`) and its AWS events. */
export type QueueMessage<Q extends QueueName> =
  MessageOf<QueueDefinitions<Q>> | EventOf<QueueEvents<Q>[keyof QueueEvents<Q>]>;

/** One handler per message type and AWS event a queue carries: the compiler checks that none is missing or extra. */
export type QueueHandlers<Q extends QueueName, R> = {
  [D in QueueDefinitions<Q> as D['type']]: (message: MessageOf<D>) => R;
} & {
  [E in keyof QueueEvents<Q>]: (event: EventOf<QueueEvents<Q>[E]>) => R;
};

/** A record parsed for its queue: the name of its handler and what it is given. */
export interface QueueItem {
  type: string;
  /** One of the queue's QueueMessage<Q> (the route helper hands it to the handler of `type`, which is typed). */
  body: unknown;
  /** The run a pipeline message is about (AWS events name none). */
  runId?: string;
}

/**
 * The queue each message type goes to: the one queue whose contract lists it (the report queue is fed by the topic).
 */
export const MESSAGE_QUEUE: ReadonlyMap<string, SendQueue> = new Map(
  (Object.entries(QUEUES) as Array<[QueueName, QueueContract]>)
    .filter(([, contract]) => contract.urlEnv)
    .flatMap(([queue, contract]) => contract.messages.map((def) => [def.type, queue as SendQueue] as const)),
);

/** `BTP_SUBMIT_QUEUE_URL` for `submit`. */
export const queueUrlEnv = (queue: SendQueue): string => (QUEUES[queue] as QueueContract).urlEnv!;

/** What a queue takes, for errors: "dataset.prepared, job.requested or run.resume". */
export function describeQueue(queue: QueueName): string {
  const contract: QueueContract = QUEUES[queue];
  const names = [...contract.messages.map((d) => d.type), ...Object.values(contract.events).map((e) => e.describe)];
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0]!;
}

/**
 * Parses one record's body for a queue. A body that is none of the queue's messages or events, or that fails its
 * schema, throws InvalidMessageError naming the queue and what it takes (the record goes to the dead-letter queue).
 */
/**
 * The longest message body any queue takes. Every message of the pipeline, S3's notifications and Bedrock's events
 * are a few kilobytes (a run request's configuration included); a body far past that is refused before it is parsed.
 */
export const MAX_MESSAGE_CHARS = 64 * 1024;

export async function parseQueueItem(queue: QueueName, body: string): Promise<QueueItem> {
  const contract: QueueContract = QUEUES[queue];
  if (body.length > MAX_MESSAGE_CHARS) {
    throw new InvalidMessageError(
      `the message is ${body.length} characters long; messages on the ${queue} queue are at most ${MAX_MESSAGE_CHARS}`,
    );
  }
  const value = parseJson(body);
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidMessageError(
      `the ${queue} queue takes ${describeQueue(queue)}, not ${JSON.stringify(value)?.slice(0, 80)}`,
    );
  }
  const fields = value as Record<string, unknown>;
  for (const [name, event] of Object.entries(contract.events)) {
    if (!event.is(fields)) continue;
    const parsed = (await event.schema()).safeParse(fields);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new InvalidMessageError(
        `${event.describe} on the ${queue} queue is not valid: ${where}`,
        parsed.error.issues,
      );
    }
    return { type: name, body: parsed.data };
  }
  const def = contract.messages.find((d) => d.type === fields.type);
  if (!def) {
    const what = typeof fields.type === 'string' ? `a ${fields.type} message` : 'a body without a message type';
    throw new InvalidMessageError(`the ${queue} queue takes ${describeQueue(queue)}, not ${what}`);
  }
  const message = parseMessage(def, fields);
  return { type: def.type, body: message, runId: message.runId };
}
