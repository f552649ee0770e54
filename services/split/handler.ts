import { route } from '../../shared/lambda/route';
import { sqsHandler } from '../../shared/lambda/sqs-handler';
import { getDeps } from './deps';
import { splitOnChunk } from './split';

/** Split queue: one chunk.transformed per finished chunk; the last one to find every chunk recorded does the split. */
export const handler = sqsHandler(
  route('split', {
    'chunk.transformed': async (msg, record) => {
      const result = await splitOnChunk(msg, getDeps(), {
        attempt: Number(record.attributes.ApproximateReceiveCount ?? 1),
      });
      return { chunk: msg.payload.chunkIndex, ...result };
    },
  }),
);
