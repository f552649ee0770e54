import { lazyByEnv, makeS3, requireEnv } from '../../shared/aws/clients';
import { sendFromEnv } from '../../shared/aws/queues';
import { buildArtifactStore } from '../../shared/aws/s3-io';
import { countFigure } from '../../shared/lambda/metrics';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import { recordQuotasFromEnv } from '../../shared/orchestration/record-limits';
import type { SplitDeps } from './split';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): SplitDeps {
  const now = () => new Date();
  return {
    runs: runStoreFromEnv(env),
    send: sendFromEnv(env, now),
    artifacts: buildArtifactStore(makeS3(), requireEnv('BTP_ARTIFACTS_BUCKET', env)),
    count: countFigure,
    recordQuotas: recordQuotasFromEnv(env.BTP_RECORD_QUOTAS),
    now,
  };
}

/** Built on the first record, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
