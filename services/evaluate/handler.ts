import { parseMessage } from '../../shared/messages/envelope';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { logger } from '../../shared/lambda/logger';
import { EvaluationRequested } from '../../shared/orchestration/messages';
import { getDeps } from './deps';
import { evaluateModel } from './evaluate';

/** The evaluate queue carries evaluation.requested: try the run's provisioned model on its held-out test records. */
export const handler = sqsHandler(
  async (record) => {
    const msg = parseMessage(EvaluationRequested, record.body);
    const outcome = await evaluateModel(msg.runId, msg.payload.provisionedModelArn, getDeps(), { retry: msg.payload.retry, correlationId: msg.correlationId });
    logger.info('evaluate', { runId: msg.runId, retry: msg.payload.retry, outcome });
  },
  { deadLetter: () => ({ sqs: getDeps().sqs, queueUrl: process.env.BTP_DLQ_URL }) },
);
