import { lazyByEnv } from '../../shared/aws/clients';
import { bedrock, count, portsFromEnv, runs, send, settings } from '../../shared/orchestration/ports-from-env';
import type { ProvisionDeps } from './provision';

/** Composition root: the ports the provision step uses, from the environment. */
export const buildDeps = (env: NodeJS.ProcessEnv): ProvisionDeps =>
  portsFromEnv(env, { runs, bedrock, send, count, settings });

/** Built on first use, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
