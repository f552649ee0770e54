import { parseJson, parseMessage, InvalidMessageError } from '../../shared/messages/envelope';
import { ModelReady, ThroughputPoll } from '../../shared/messages/pipeline';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { logger } from '../../shared/lambda/logger';
import { ModelProvision } from '../../shared/orchestration/control-messages';
import { ThroughputExpire } from '../../shared/orchestration/messages';
import { getDeps } from './deps';
import { expireThroughput, pollThroughput, provisionExistingModel, provisionModel } from './provision';

/** The provision queue carries model.ready, throughput.poll, throughput.expire and model.provision. */
export const handler = sqsHandler(
  async (record) => {
    const body = parseJson(record.body) as { type?: unknown; runId?: string };
    let outcome: string;
    if (body?.type === ModelReady.type) {
      const msg = parseMessage(ModelReady, body);
      outcome = await provisionModel(msg.runId, msg.payload.modelArn, getDeps(), msg.correlationId);
    } else if (body?.type === ThroughputPoll.type) {
      const msg = parseMessage(ThroughputPoll, body);
      outcome = await pollThroughput(msg.runId, msg.payload.provisionedModelArn, msg.payload.poll, getDeps());
    } else if (body?.type === ThroughputExpire.type) {
      const msg = parseMessage(ThroughputExpire, body);
      outcome = await expireThroughput(msg.runId, msg.payload.provisionedModelArn, getDeps());
    } else if (body?.type === ModelProvision.type) {
      const msg = parseMessage(ModelProvision, body);
      outcome = await provisionExistingModel(msg.runId, msg.payload, getDeps(), msg.correlationId);
    } else {
      throw new InvalidMessageError(`the provision queue takes model.ready, throughput.poll, throughput.expire or model.provision, not ${String(body?.type)}`);
    }
    logger.info('provision', { runId: body.runId, type: String(body.type), outcome });
  },
  { deadLetter: () => ({ sqs: getDeps().sqs, queueUrl: process.env.BTP_DLQ_URL }) },
);
