import { refuseUnknownRun, route } from '../../shared/lambda/route';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { getDeps } from './deps';
import { cancelRun, observeJob } from './monitor';

/** The monitor queue carries job.submitted, job.poll, run.cancel and Bedrock's EventBridge job state-change events. */
export const handler = sqsHandler(
  route('monitor', {
    'job.submitted': (msg) =>
      observeJob({ kind: 'submitted', runId: msg.runId, ...msg.payload, correlationId: msg.correlationId }, getDeps()),
    'job.poll': (msg) =>
      observeJob({ kind: 'poll', runId: msg.runId, ...msg.payload, correlationId: msg.correlationId }, getDeps()),
    'run.cancel': async (msg) => refuseUnknownRun(msg, await cancelRun(msg.runId, msg.payload.reason, getDeps())),
    'aws.bedrock.job-state-change': ({ detail: { jobArn, jobName, jobStatus } }) =>
      observeJob({ kind: 'event', jobArn, jobName, jobStatus }, getDeps()),
  }),
);
