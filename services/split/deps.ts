import { makeS3, makeSqs, requireEnv } from '../../shared/aws/clients';
import { buildPublish } from '../../shared/aws/queues';
import { buildArtifactStore } from '../../shared/aws/s3-io';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { SplitDeps } from './split';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): SplitDeps & { sqs: ReturnType<typeof makeSqs> } {
  const sqs = makeSqs();
  return {
    sqs,
    runs: runStoreFromEnv(env),
    publish: buildPublish(sqs),
    artifacts: buildArtifactStore(makeS3(), requireEnv('BTP_ARTIFACTS_BUCKET', env)),
    submitQueueUrl: requireEnv('BTP_SUBMIT_QUEUE_URL', env),
    now: () => new Date(),
  };
}
