import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { z } from 'zod';
import type { Envelope, MessageDefinition } from '../messages/envelope';

/** The publish port: domain code posts a validated message to a named queue, optionally delayed. */
export type Publish = (queueUrl: string, message: Envelope, opts?: { delaySeconds?: number }) => Promise<void>;

/** SQS adapter for Publish. SQS caps DelaySeconds at 900; longer waits are re-delayed by the consumer. */
export const buildPublish =
  (sqs: SQSClient): Publish =>
  async (queueUrl, message, opts = {}) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: opts.delaySeconds === undefined ? undefined : Math.min(900, Math.max(0, Math.round(opts.delaySeconds))),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: message.type },
          runId: { DataType: 'String', StringValue: message.runId },
        },
      }),
    );
  };

/** Validates before sending, so a producer can never put a message on a queue that its consumer would reject. */
export async function publishMessage<T extends string, P extends z.ZodType>(
  publish: Publish,
  queueUrl: string,
  def: MessageDefinition<T, P>,
  message: Envelope,
  opts?: { delaySeconds?: number },
): Promise<void> {
  await publish(queueUrl, def.schema.parse(message) as Envelope, opts);
}
