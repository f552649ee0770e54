import { lazyByEnv, makeS3 } from '../../shared/aws/clients';
import { settleExperiment } from '../../shared/orchestration/variants';
import { writeReport } from '../../shared/report/load';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { Run } from '../../shared/runs/run';
import type { ReportDeps } from './report';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): ReportDeps {
  const s3 = makeS3();
  const runs = runStoreFromEnv(env);
  return {
    runs,
    writeReport: async (run) => {
      // An experiment's report compares its variants' evaluations.
      const children = (await Promise.all((run.children ?? []).map((c) => runs.get(c.runId)))).filter(
        (c): c is Run => c !== undefined,
      );
      return writeReport(run, s3, { artifactsBucket: env.BTP_ARTIFACTS_BUCKET, children });
    },
    settleExperiment: (run) => settleExperiment(run, { runs, now: () => new Date() }),
  };
}

/** Built on the first record, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
