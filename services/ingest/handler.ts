import { lazyByEnv } from '../../shared/aws/clients';
import { logger } from '../../shared/lambda/logger';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { buildDeps } from './deps';
import { ingest } from './ingest';
import { parseIngestRecord } from './s3-event';

const getDeps = lazyByEnv(buildDeps);

/** Ingest queue: S3 notifications for datasets/ and run.requested messages. */
export const handler = sqsHandler(
  async (record) => {
    const inputs = parseIngestRecord(record.body); // throws InvalidMessageError: this record alone goes to the DLQ
    for (const input of inputs) {
      const result = await ingest(input, getDeps());
      logger.info('ingest', { ...result, ...(input.kind === 'stage' ? { stage: input.stage } : { key: input.source.key }) });
    }
  },
  { deadLetter: () => ({ sqs: getDeps().sqs, queueUrl: process.env.BTP_DLQ_URL }) },
);
