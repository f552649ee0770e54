import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_QUEUE, queueUrlEnv } from '../messages/queues';
import { buildSend, type Publish, type QueueUrls, type Send } from '../messages/send';
import { makeSqs } from './clients';

/** SQS adapter for Publish. SQS caps DelaySeconds at 900; longer waits are re-delayed by the consumer. */
export const buildPublish =
  (sqs: SQSClient): Publish =>
  async (queueUrl, message, opts = {}) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds:
          opts.delaySeconds === undefined ? undefined : Math.min(900, Math.max(0, Math.round(opts.delaySeconds))),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: message.type },
          runId: { DataType: 'String', StringValue: message.runId },
        },
      }),
    );
  };

/**
 * The URLs of the queues messages are sent to, as serverless.yml gives them (BTP_<QUEUE>_QUEUE_URL); unset ones are
 * absent.
 */
export function queueUrlsFromEnv(env: NodeJS.ProcessEnv): QueueUrls {
  const urls: QueueUrls = {};
  for (const queue of new Set(MESSAGE_QUEUE.values())) {
    const url = env[queueUrlEnv(queue)];
    if (url) urls[queue] = url;
  }
  return urls;
}

/** The send port over SQS, to the queues in the environment: what every function that sends builds. */
export const sendFromEnv = (env: NodeJS.ProcessEnv, now: () => Date): Send =>
  buildSend(buildPublish(makeSqs()), queueUrlsFromEnv(env), now);
