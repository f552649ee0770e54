import { lazyByEnv } from '../../shared/aws/clients';
import {
  bedrockOnFirstCall,
  count,
  portsFromEnv,
  runs,
  send,
  settings,
} from '../../shared/orchestration/ports-from-env';
import type { SweeperDeps } from './sweeper';

/** Composition root: the ports the sweeper step uses, from the environment. */
export const buildDeps = (env: NodeJS.ProcessEnv): SweeperDeps =>
  portsFromEnv(env, { runs, bedrock: bedrockOnFirstCall, send, count, settings });

/** Built on first use, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
