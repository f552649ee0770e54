import type * as z from 'zod';
import { buildMessage, type Envelope, type MessageOf } from './envelope';
import { MESSAGE_QUEUE, queueUrlEnv, type AnyMessageDefinition, type SendQueue } from './queues';

/** The transport: puts a validated message on a queue, optionally delayed (SQS adapter: shared/aws/queues.ts). */
export type Publish = (queueUrl: string, message: Envelope, opts?: { delaySeconds?: number }) => Promise<void>;

/** The URLs of the queues a function sends to, from its environment (queueUrlsFromEnv). */
export type QueueUrls = Partial<Record<SendQueue, string>>;

export interface SendOptions {
  /** Carried over from the message that caused this one; a new one otherwise. */
  correlationId?: string;
  /** SQS caps a delay at 900 s; longer waits are re-delayed by the consumer. */
  delaySeconds?: number;
}

/**
 * The send port: builds a message of one definition, validates it once, and puts it on the queue that carries its
 * type (shared/messages/queues.ts); returns the message sent. `reaches` says whether that queue is configured (the
 * evaluate queue is optional: without it a run succeeds without evaluation).
 */
export interface Send {
  <D extends AnyMessageDefinition>(
    def: D,
    runId: string,
    payload: z.input<D['payload']>,
    opts?: SendOptions,
  ): Promise<MessageOf<D>>;
  reaches(def: AnyMessageDefinition): boolean;
}

export function buildSend(publish: Publish, urls: QueueUrls, now: () => Date = () => new Date()): Send {
  const queueOf = (def: AnyMessageDefinition): SendQueue => {
    const queue = MESSAGE_QUEUE.get(def.type);
    if (!queue) throw new Error(`no queue carries ${def.type} messages (shared/messages/queues.ts)`);
    return queue;
  };
  const send = async <D extends AnyMessageDefinition>(
    def: D,
    runId: string,
    payload: z.input<D['payload']>,
    opts: SendOptions = {},
  ) => {
    const queue = queueOf(def);
    const url = urls[queue];
    if (!url) throw new Error(`${queueUrlEnv(queue)} is not set: cannot send ${def.type} to the ${queue} queue`);
    const message = buildMessage(def, runId, payload, opts.correlationId, now) as MessageOf<D>;
    await publish(url, message, opts.delaySeconds === undefined ? undefined : { delaySeconds: opts.delaySeconds });
    return message;
  };
  return Object.assign(send, { reaches: (def: AnyMessageDefinition) => urls[queueOf(def)] !== undefined });
}
