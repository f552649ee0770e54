import { lazyByEnv } from '../../shared/aws/clients';
import { logger } from '../../shared/lambda/logger';
import { parseMessage } from '../../shared/messages/envelope';
import { ChunkRequested } from '../../shared/messages/pipeline';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { buildDeps } from './deps';
import { transformChunk } from './transform';

const getDeps = lazyByEnv(buildDeps);

/** Transform queue: one chunk.requested per record (batch size 1: a chunk can take minutes). */
export const handler = sqsHandler(
  async (record) => {
    const msg = parseMessage(ChunkRequested, record.body);
    const result = await transformChunk(msg, getDeps());
    logger.info('transform', { runId: msg.runId, chunk: msg.payload.chunk.index, ...result });
  },
  { deadLetter: () => ({ sqs: getDeps().sqs, queueUrl: process.env.BTP_DLQ_URL }) },
);
