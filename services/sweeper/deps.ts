import { lazyByEnv, makeBedrock } from '../../shared/aws/clients';
import { sendFromEnv } from '../../shared/aws/queues';
import { countFigure } from '../../shared/lambda/metrics';
import { buildBedrockPort } from '../../shared/orchestration/bedrock-adapter';
import { settingsFromEnv } from '../../shared/orchestration/settings';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { SweeperDeps } from './sweeper';

/** Composition root: environment -> SDK clients -> adapters. */
export function buildDeps(env: NodeJS.ProcessEnv): SweeperDeps {
  const now = () => new Date();
  return {
    runs: runStoreFromEnv(env),
    bedrock: buildBedrockPort(makeBedrock()),
    send: sendFromEnv(env, now),
    count: countFigure,
    settings: settingsFromEnv(env),
    now,
  };
}

/** Built on the first run, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
