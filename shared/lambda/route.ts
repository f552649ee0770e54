import type { SQSRecord } from 'aws-lambda';
import { InvalidMessageError } from '../messages/envelope';
import { parseQueueItem, type QueueHandlers, type QueueName } from '../messages/queues';
import { logger } from './logger';

/** What a handler returns: logged with the record's type and run (an outcome name, or fields to log). */
type Outcome = string | object | void;

/** A queue's handlers: each is given its message (or AWS event) and the SQS record it came in. */
export type RouteHandlers<Q extends QueueName> = {
  [K in keyof QueueHandlers<Q, void>]: (
    body: Parameters<QueueHandlers<Q, void>[K]>[0],
    record: SQSRecord,
  ) => Promise<Outcome>;
};

/**
 * The per-record function of a queue's handler: parses the record against the queue's contract
 * (shared/messages/queues.ts) and calls the handler of its type. Anything the queue does not take throws
 * InvalidMessageError naming the queue and what it takes, so the wrapper dead-letters it with that reason.
 */
export function route<Q extends QueueName>(queue: Q, handlers: RouteHandlers<Q>): (record: SQSRecord) => Promise<void> {
  // Each handler takes its own type's body; parseQueueItem pairs a body with the name of the handler it was parsed for.
  const byType: Record<string, (body: never, record: SQSRecord) => Promise<Outcome>> = handlers;
  return async (record) => {
    const item = await parseQueueItem(queue, record.body);
    const outcome = await byType[item.type]!(item.body as never, record);
    const fields = typeof outcome === 'object' && outcome !== null ? outcome : outcome === undefined ? {} : { outcome };
    logger.info(queue, { type: item.type, ...(item.runId ? { runId: item.runId } : {}), ...fields });
  };
}

/**
 * A control message (run.cancel, run.resume) about a run that does not exist is refused, not dropped: the wrapper
 * dead-letters it with this reason, so whoever sent it can see that nothing happened and why.
 */
export function refuseUnknownRun<T>(msg: { type: string; runId: string }, outcome: T): T {
  if (outcome === 'unknown-run')
    throw new InvalidMessageError(`${msg.type} names the run ${msg.runId}, which does not exist`);
  return outcome;
}
