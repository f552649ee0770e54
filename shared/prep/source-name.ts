import type { S3ObjectRef } from '../messages/pipeline';

/**
 * How errors and run failures name an input file. A module of its own: split names its source without reading it,
 * and importing chunk.ts for this would bundle the readers (iconv-lite's tables among them) into split's handler.
 */
export const sourceName = (ref: S3ObjectRef) => `s3://${ref.bucket}/${ref.key}`;
