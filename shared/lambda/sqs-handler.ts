import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { InvalidMessageError } from '../messages/envelope';
import { logger } from './logger';

export interface SqsHandlerOptions {
  /** Where a message that can never succeed (it fails validation) goes at once, with the reason as an attribute. */
  deadLetter?: () => { sqs: SQSClient; queueUrl: string | undefined };
}

/**
 * Wraps a per-record function as an SQS-triggered Lambda handler with partial batch responses: a record whose
 * function throws returns to the queue alone (and reaches the DLQ after maxReceiveCount); the others are deleted.
 * An InvalidMessageError is not retried: the record is moved to the dead-letter queue with the validation error.
 */
export function sqsHandler(
  onRecord: (record: SQSRecord, context: Context) => Promise<void>,
  opts: SqsHandlerOptions = {},
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const recordHandler = async (record: SQSRecord) => {
      try {
        await onRecord(record, context);
      } catch (err) {
        if (err instanceof InvalidMessageError && opts.deadLetter) {
          await deadLetter(record, err, opts.deadLetter());
          return;
        }
        logger.error('record failed; it returns to the queue', { messageId: record.messageId, error: err as Error });
        throw err;
      }
    };
    return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
  };
  return middy(handle).use(injectLambdaContext(logger, { resetKeys: true })) as unknown as (
    event: SQSEvent,
    context: Context,
  ) => Promise<SQSBatchResponse>;
}

async function deadLetter(record: SQSRecord, err: InvalidMessageError, target: { sqs: SQSClient; queueUrl: string | undefined }) {
  if (!target.queueUrl) throw err; // no DLQ configured: let the redrive policy take it after maxReceiveCount
  logger.warn('invalid message moved to the dead-letter queue', { messageId: record.messageId, reason: err.message });
  await target.sqs.send(
    new SendMessageCommand({
      QueueUrl: target.queueUrl,
      MessageBody: record.body,
      MessageAttributes: {
        'btp-error': { DataType: 'String', StringValue: err.message.slice(0, 4000) },
        'btp-source-queue': { DataType: 'String', StringValue: record.eventSourceARN },
        'btp-source-message-id': { DataType: 'String', StringValue: record.messageId },
      },
    }),
  );
}
