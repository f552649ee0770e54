import { lazyByEnv, makeS3 } from '../../shared/aws/clients';
import { settleExperiment } from '../../shared/orchestration/variants';
import { writeReport } from '../../shared/report';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { ReportDeps } from './report';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): ReportDeps {
  const s3 = makeS3();
  const runs = runStoreFromEnv(env);
  return {
    runs,
    writeReport: (run) => writeReport(run, s3, { artifactsBucket: env.BTP_ARTIFACTS_BUCKET }),
    settleExperiment: (run) => settleExperiment(run, { runs, now: () => new Date() }),
  };
}

/** Built on the first record, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
