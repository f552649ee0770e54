import { makeDocumentClient, makeSns, makeSqs, requireEnv } from '../aws/clients';
import { logger } from '../lambda/logger';
import { DynamoRunStore } from './dynamo-run-store';
import { notifyFromEnv, withNotifications } from './notifying-run-store';
import type { RunStore } from './store';

/**
 * The run store every function uses: the runs table, announcing each status change on the notifications topic
 * (BTP_NOTIFICATIONS_TOPIC_ARN) so other teams, and the report function, hear of it without polling the table.
 */
export function runStoreFromEnv(env: NodeJS.ProcessEnv): RunStore {
  const store = new DynamoRunStore(makeDocumentClient(), requireEnv('BTP_RUNS_TABLE', env));
  return withNotifications(store, notifyFromEnv(env, { sns: makeSns, sqs: makeSqs }), {
    onError: (error, run) => logger.error('run notification not published; the state change stands', { ...run, error }),
  });
}
