import { makeS3, makeSqs, requireEnv } from '../../shared/aws/clients';
import { buildPublish } from '../../shared/aws/queues';
import { buildArtifactStore, buildDatasetStore } from '../../shared/aws/s3-io';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { TransformDeps } from './transform';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): TransformDeps & { sqs: ReturnType<typeof makeSqs> } {
  const sqs = makeSqs();
  const s3 = makeS3();
  return {
    sqs,
    runs: runStoreFromEnv(env),
    publish: buildPublish(sqs),
    datasets: buildDatasetStore(s3),
    artifacts: buildArtifactStore(s3, requireEnv('BTP_ARTIFACTS_BUCKET', env)),
    splitQueueUrl: requireEnv('BTP_SPLIT_QUEUE_URL', env),
    now: () => new Date(),
  };
}
