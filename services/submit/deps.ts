import { lazyByEnv } from '../../shared/aws/clients';
import { bedrock, count, objects, portsFromEnv, runs, send, settings } from '../../shared/orchestration/ports-from-env';
import type { SubmitDeps } from './submit';

/** Composition root: the ports the submit step uses, from the environment. */
export const buildDeps = (env: NodeJS.ProcessEnv): SubmitDeps =>
  portsFromEnv(env, { runs, bedrock, objects, send, count, settings });

/** Built on first use, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
