import { lazyByEnv } from '../../shared/aws/clients';
import { logger } from '../../shared/lambda/logger';
import { parseMessage } from '../../shared/messages/envelope';
import { ChunkTransformed } from '../../shared/messages/pipeline';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { buildDeps } from './deps';
import { splitOnChunk } from './split';

const getDeps = lazyByEnv(buildDeps);

/** Split queue: one chunk.transformed per finished chunk; the last one to find every chunk recorded does the split. */
export const handler = sqsHandler(
  async (record) => {
    const msg = parseMessage(ChunkTransformed, record.body);
    const result = await splitOnChunk(msg, getDeps(), { attempt: Number(record.attributes.ApproximateReceiveCount ?? 1) });
    logger.info('split', { runId: msg.runId, chunk: msg.payload.chunkIndex, ...result });
  },
  { deadLetter: () => ({ sqs: getDeps().sqs, queueUrl: process.env.BTP_DLQ_URL }) },
);
