import { lazyByEnv, makeS3 } from '../../shared/aws/clients';
import { writeReport } from '../../shared/report';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { ReportDeps } from './report';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): ReportDeps {
  const s3 = makeS3();
  return {
    runs: runStoreFromEnv(env),
    writeReport: (run) => writeReport(run, s3, { artifactsBucket: env.BTP_ARTIFACTS_BUCKET }),
  };
}

/** Built on the first record, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
