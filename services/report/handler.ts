import { route } from '../../shared/lambda/route';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { getDeps } from './deps';
import { reportOnRunEnd } from './report';

/** The report queue is subscribed to the run notifications topic, filtered to runs that ended. */
export const handler = sqsHandler(
  route('report', {
    'run.status.changed': (msg) => reportOnRunEnd(msg, getDeps()),
  }),
);
