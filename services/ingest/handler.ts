import { InvalidMessageError } from '../../shared/messages/envelope';
import { route } from '../../shared/lambda/route';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { getDeps } from './deps';
import { ingest } from './ingest';
import { uploadsOf } from './s3-event';

/** Ingest queue: S3 notifications for datasets/, run.requested from other teams, stage.requested from monitor. */
export const handler = sqsHandler(
  route('ingest', {
    'run.requested': async (msg) => {
      const request = { runId: msg.runId, correlationId: msg.correlationId };
      const result = await ingest(
        { kind: 'request', source: msg.payload.source, config: msg.payload.config, request },
        getDeps(),
      );
      // No run was started (run.rejected is published): the request goes to the dead-letter queue with the reason.
      if (result.outcome === 'rejected') throw new InvalidMessageError(`run.requested rejected: ${result.why}`);
      return result;
    },
    'stage.requested': (msg) =>
      ingest(
        { kind: 'stage', runId: msg.runId, stage: msg.payload.stage, correlationId: msg.correlationId },
        getDeps(),
      ),
    'aws.s3.notification': async (notification) => {
      const results = [];
      for (const input of uploadsOf(notification))
        results.push({ key: input.source.key, ...(await ingest(input, getDeps())) });
      return { results };
    },
    'aws.s3.test': async () => 'ignored', // S3's check when the notification configuration is put: nothing to start
  }),
);
