import { logger } from '../../shared/lambda/logger';
import { withObservability } from '../../shared/lambda/sqs-handler';
import { getDeps } from './deps';
import { sweep, type SweepReport } from './sweeper';

/** Runs on a schedule (EventBridge rate rule); see sweeper.ts for what it repairs. */
export const handler = withObservability(async (): Promise<SweepReport> => {
  const report = await sweep(getDeps());
  logger.info('sweep', { ...report });
  return report;
});
