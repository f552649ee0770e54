import { parseMessage } from '../../shared/messages/envelope';
import { RunStatusChanged } from '../../shared/messages/notifications';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { logger } from '../../shared/lambda/logger';
import { getDeps } from './deps';
import { reportOnRunEnd } from './report';

/** The report queue is subscribed to the run notifications topic, filtered to runs that ended. */
export const handler = sqsHandler(
  async (record) => {
    const msg = parseMessage(RunStatusChanged, record.body);
    logger.info(await reportOnRunEnd(msg, getDeps()), { runId: msg.runId });
  },
  { deadLetter: () => ({ sqs: getDeps().sqs, queueUrl: process.env.BTP_DLQ_URL }) },
);
