import { route } from '../../shared/lambda/route';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { getDeps } from './deps';
import { evaluateModel } from './evaluate';

/** The evaluate queue carries evaluation.requested: try the run's provisioned model on its held-out test records. */
export const handler = sqsHandler(
  route('evaluate', {
    'evaluation.requested': async (msg) => {
      const { provisionedModelArn, retry } = msg.payload;
      return {
        retry,
        outcome: await evaluateModel(msg.runId, provisionedModelArn, getDeps(), {
          retry,
          correlationId: msg.correlationId,
        }),
      };
    },
  }),
);
