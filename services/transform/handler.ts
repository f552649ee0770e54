import { route } from '../../shared/lambda/route';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { getDeps } from './deps';
import { transformChunk } from './transform';

/** Transform queue: one chunk.requested per record (batch size 1: a chunk can take minutes). */
export const handler = sqsHandler(
  route('transform', {
    'chunk.requested': async (msg) => ({ chunk: msg.payload.chunk.index, ...(await transformChunk(msg, getDeps())) }),
  }),
);
