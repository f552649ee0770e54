import { lazyByEnv, makeBedrock, makeS3 } from '../../shared/aws/clients';
import { sendFromEnv } from '../../shared/aws/queues';
import { buildObjectStore } from '../../shared/aws/s3-io';
import { countFigure } from '../../shared/lambda/metrics';
import { buildBedrockPort } from '../../shared/orchestration/bedrock-adapter';
import { settingsFromEnv } from '../../shared/orchestration/settings';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { SubmitDeps } from './submit';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): SubmitDeps {
  const now = () => new Date();
  return {
    runs: runStoreFromEnv(env),
    bedrock: buildBedrockPort(makeBedrock()),
    objects: buildObjectStore(makeS3()),
    send: sendFromEnv(env, now),
    count: countFigure,
    settings: settingsFromEnv(env),
    now,
  };
}

/** Built on the first record, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
