import { lazyByEnv, makeS3, requireEnv } from '../../shared/aws/clients';
import { sendFromEnv } from '../../shared/aws/queues';
import { buildArtifactStore, buildDatasetStore } from '../../shared/aws/s3-io';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { TransformDeps } from './transform';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): TransformDeps {
  const s3 = makeS3();
  const now = () => new Date();
  return {
    runs: runStoreFromEnv(env),
    send: sendFromEnv(env, now),
    datasets: buildDatasetStore(s3),
    artifacts: buildArtifactStore(s3, requireEnv('BTP_ARTIFACTS_BUCKET', env)),
    now,
  };
}

/** Built on the first record, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
