import { lazyByEnv, makeS3, requireEnv } from '../../shared/aws/clients';
import { sendFromEnv } from '../../shared/aws/queues';
import { buildDatasetStore } from '../../shared/aws/s3-io';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import { catalogDateSetting } from '../../shared/catalog/lifecycle';
import { makeSns, makeSqs } from '../../shared/aws/clients';
import { notifyFromEnv } from '../../shared/runs/notifying-run-store';
import { recordQuotasFromEnv } from '../../shared/orchestration/record-limits';
import type { IngestDeps } from './ingest';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): IngestDeps {
  const now = () => new Date();
  return {
    runs: runStoreFromEnv(env),
    send: sendFromEnv(env, now),
    datasets: buildDatasetStore(makeS3()),
    artifactsBucket: requireEnv('BTP_ARTIFACTS_BUCKET', env),
    datasetsBucket: env.BTP_DATASETS_BUCKET || undefined,
    notify: notifyFromEnv(env, { sns: makeSns, sqs: makeSqs }),
    recordQuotas: recordQuotasFromEnv(env.BTP_RECORD_QUOTAS),
    now,
    ...(catalogDateSetting(env) ? { catalogDate: catalogDateSetting(env) } : {}),
  };
}

/** Built on the first record, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
