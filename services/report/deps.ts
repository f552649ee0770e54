import { lazyByEnv, makeS3, makeSqs } from '../../shared/aws/clients';
import { writeReport } from '../../shared/report';
import { runStoreFromEnv } from '../../shared/runs/from-env';

export const getDeps = lazyByEnv((env) => {
  const s3 = makeS3();
  return {
    runs: runStoreFromEnv(env),
    writeReport: (run: Parameters<typeof writeReport>[0]) => writeReport(run, s3, { artifactsBucket: env.BTP_ARTIFACTS_BUCKET }),
    sqs: makeSqs(),
  };
});
