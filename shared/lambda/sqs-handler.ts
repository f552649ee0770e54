import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lazyByEnv, makeSqs } from '../aws/clients';
import { InvalidMessageError } from '../messages/envelope';
import { logger } from './logger';
import { metrics } from './metrics';

/** Every handler's middleware: the logger gets the invocation's context, and the figures counted are flushed as EMF. */
export function withObservability<E, R>(
  handle: (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics)) as unknown as (event: E, context: Context) => Promise<R>;
}

/**
 * The function's dead-letter queue (BTP_DLQ_URL, set per function in serverless.yml). Its client is built on the first
 * invalid message, not at import, and again only when the environment changes (the local stack restarts on new ports).
 */
const deadLetterQueue = lazyByEnv((env) => (env.BTP_DLQ_URL ? { url: env.BTP_DLQ_URL, sqs: makeSqs() } : undefined));

/**
 * Wraps a per-record function as an SQS-triggered Lambda handler with partial batch responses: a record whose
 * function throws returns to the queue alone (and reaches the DLQ after maxReceiveCount); the others are deleted.
 * An InvalidMessageError is not retried: the record is moved to the dead-letter queue with the validation error.
 */
export function sqsHandler(
  onRecord: (record: SQSRecord, context: Context) => Promise<void>,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return withObservability(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const recordHandler = async (record: SQSRecord) => {
      try {
        await onRecord(record, context);
      } catch (err) {
        if (err instanceof InvalidMessageError) {
          await deadLetter(record, err);
          return;
        }
        logger.error('record failed; it returns to the queue', { messageId: record.messageId, error: err as Error });
        throw err;
      }
    };
    return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
  });
}

async function deadLetter(record: SQSRecord, err: InvalidMessageError) {
  const target = deadLetterQueue();
  if (!target) throw err; // no DLQ configured: let the redrive policy take it after maxReceiveCount
  logger.warn('invalid message moved to the dead-letter queue', { messageId: record.messageId, reason: err.message });
  await target.sqs.send(
    new SendMessageCommand({
      QueueUrl: target.url,
      MessageBody: record.body,
      MessageAttributes: {
        'btp-error': { DataType: 'String', StringValue: err.message.slice(0, 4000) },
        'btp-source-queue': { DataType: 'String', StringValue: record.eventSourceARN },
        'btp-source-message-id': { DataType: 'String', StringValue: record.messageId },
      },
    }),
  );
}
