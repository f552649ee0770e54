import { makeDocumentClient, makeS3, makeSqs, requireEnv } from '../../shared/aws/clients';
import { buildPublish } from '../../shared/aws/queues';
import { buildArtifactStore, buildDatasetStore } from '../../shared/aws/s3-io';
import { DynamoRunStore } from '../../shared/runs/dynamo-run-store';
import type { TransformDeps } from './transform';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): TransformDeps & { sqs: ReturnType<typeof makeSqs> } {
  const sqs = makeSqs();
  const s3 = makeS3();
  return {
    sqs,
    runs: new DynamoRunStore(makeDocumentClient(), requireEnv('BTP_RUNS_TABLE', env)),
    publish: buildPublish(sqs),
    datasets: buildDatasetStore(s3),
    artifacts: buildArtifactStore(s3, requireEnv('BTP_ARTIFACTS_BUCKET', env)),
    splitQueueUrl: requireEnv('BTP_SPLIT_QUEUE_URL', env),
    now: () => new Date(),
  };
}
