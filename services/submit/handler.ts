import { refuseUnknownRun, route } from '../../shared/lambda/route';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { getDeps } from './deps';
import { resumeRun, submitJob } from './submit';

/** The submit queue carries dataset.prepared (from split), job.requested (submit's own retries) and run.resume. */
export const handler = sqsHandler(
  route('submit', {
    'dataset.prepared': (msg) =>
      submitJob(
        msg.runId,
        {
          kind: 'prepared',
          manifestKey: msg.payload.manifestKey,
          stage: msg.payload.stage,
          correlationId: msg.correlationId,
        },
        getDeps(),
      ),
    'job.requested': (msg) =>
      submitJob(msg.runId, { kind: 'requested', ...msg.payload, correlationId: msg.correlationId }, getDeps()),
    'run.resume': async (msg) => refuseUnknownRun(msg, await resumeRun(msg.runId, msg.payload, getDeps())),
  }),
);
