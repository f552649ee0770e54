import { z } from 'zod';
import { parseJson, parseMessage, InvalidMessageError } from '../../shared/messages/envelope';
import { JobPoll, JobSubmitted } from '../../shared/messages/pipeline';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { logger } from '../../shared/lambda/logger';
import { RunCancel } from '../../shared/orchestration/control-messages';
import { getDeps } from './deps';
import { cancelRun, observeJob } from './monitor';

/** Bedrock's EventBridge event as the rule delivers it to the queue (api §10); the status is `detail.jobStatus`. */
const JobStateChange = z.object({
  'detail-type': z.literal('Model Customization Job State Change'),
  source: z.literal('aws.bedrock'),
  detail: z.object({ jobArn: z.string().min(1), jobName: z.string().min(1), jobStatus: z.string() }).loose(),
});

/** The monitor queue carries job.submitted, job.poll, run.cancel and raw EventBridge job state-change events. */
export const handler = sqsHandler(
  async (record) => {
    const body = parseJson(record.body) as Record<string, unknown>;
    let outcome: string;
    if (body?.source === 'aws.bedrock') {
      const parsed = JobStateChange.safeParse(body);
      if (!parsed.success) throw new InvalidMessageError(`not a job state-change event: ${parsed.error.message}`);
      const { jobArn, jobName, jobStatus } = parsed.data.detail;
      outcome = await observeJob({ kind: 'event', jobArn, jobName, jobStatus }, getDeps());
    } else if (body?.type === JobSubmitted.type) {
      const msg = parseMessage(JobSubmitted, body);
      outcome = await observeJob({ kind: 'submitted', runId: msg.runId, ...msg.payload, correlationId: msg.correlationId }, getDeps());
    } else if (body?.type === JobPoll.type) {
      const msg = parseMessage(JobPoll, body);
      outcome = await observeJob({ kind: 'poll', runId: msg.runId, ...msg.payload, correlationId: msg.correlationId }, getDeps());
    } else if (body?.type === RunCancel.type) {
      const msg = parseMessage(RunCancel, body);
      outcome = await cancelRun(msg.runId, msg.payload.reason, getDeps());
    } else {
      throw new InvalidMessageError(`the monitor queue takes job.submitted, job.poll, run.cancel or Bedrock job events, not ${String(body?.type)}`);
    }
    logger.info('monitor', { type: String(body?.type ?? body?.['detail-type']), outcome });
  },
  { deadLetter: () => ({ sqs: getDeps().sqs, queueUrl: process.env.BTP_DLQ_URL }) },
);
