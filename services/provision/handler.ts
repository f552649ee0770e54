import { route } from '../../shared/lambda/route';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { getDeps } from './deps';
import { expireThroughput, pollThroughput, provisionExistingModel, provisionModel } from './provision';

/** The provision queue carries model.ready, throughput.poll, throughput.expire and model.provision. */
export const handler = sqsHandler(
  route('provision', {
    'model.ready': (msg) =>
      provisionModel(msg.runId, msg.payload.modelArn, getDeps(), msg.correlationId, msg.payload.retry),
    'throughput.poll': (msg) => pollThroughput(msg.runId, msg.payload.provisionedModelArn, msg.payload.poll, getDeps()),
    'throughput.expire': (msg) => expireThroughput(msg.runId, msg.payload.provisionedModelArn, getDeps()),
    'model.provision': (msg) => provisionExistingModel(msg.runId, msg.payload, getDeps(), msg.correlationId),
  }),
);
