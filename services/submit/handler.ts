import { parseJson, parseMessage, InvalidMessageError } from '../../shared/messages/envelope';
import { DatasetPrepared } from '../../shared/messages/pipeline';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { logger } from '../../shared/lambda/logger';
import { RunResume } from '../../shared/orchestration/control-messages';
import { JobRequested } from '../../shared/orchestration/messages';
import { getDeps } from './deps';
import { resumeRun, submitJob } from './submit';

/** The submit queue carries dataset.prepared (from split), job.requested (submit's own retries) and run.resume. */
export const handler = sqsHandler(
  async (record) => {
    const body = parseJson(record.body);
    const type = (body as { type?: unknown })?.type;
    let outcome: string;
    if (type === DatasetPrepared.type) {
      const msg = parseMessage(DatasetPrepared, body);
      const trigger = { kind: 'prepared', manifestKey: msg.payload.manifestKey, stage: msg.payload.stage, correlationId: msg.correlationId } as const;
      outcome = await submitJob(msg.runId, trigger, getDeps());
    } else if (type === JobRequested.type) {
      const msg = parseMessage(JobRequested, body);
      outcome = await submitJob(msg.runId, { kind: 'requested', ...msg.payload, correlationId: msg.correlationId }, getDeps());
    } else if (type === RunResume.type) {
      const msg = parseMessage(RunResume, body);
      outcome = await resumeRun(msg.runId, msg.payload, getDeps());
    } else {
      throw new InvalidMessageError(`the submit queue takes dataset.prepared, job.requested or run.resume, not ${String(type)}`);
    }
    logger.info('submit', { runId: (body as { runId?: string }).runId, type: String(type), outcome });
  },
  { deadLetter: () => ({ sqs: getDeps().sqs, queueUrl: process.env.BTP_DLQ_URL }) },
);
