import { makeS3, makeSqs, requireEnv } from '../../shared/aws/clients';
import { buildPublish } from '../../shared/aws/queues';
import { buildDatasetStore } from '../../shared/aws/s3-io';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { IngestDeps } from './ingest';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): IngestDeps & { sqs: ReturnType<typeof makeSqs> } {
  const sqs = makeSqs();
  return {
    sqs,
    runs: runStoreFromEnv(env),
    publish: buildPublish(sqs),
    datasets: buildDatasetStore(makeS3()),
    transformQueueUrl: requireEnv('BTP_TRANSFORM_QUEUE_URL', env),
    artifactsBucket: requireEnv('BTP_ARTIFACTS_BUCKET', env),
    now: () => new Date(),
  };
}
