import { lazyByEnv } from '../../shared/aws/clients';
import { bedrock, objects, portsFromEnv, runs, send, settings } from '../../shared/orchestration/ports-from-env';
import type { MonitorDeps } from './monitor';

/** Composition root: the ports the monitor step uses, from the environment. */
export const buildDeps = (env: NodeJS.ProcessEnv): MonitorDeps =>
  portsFromEnv(env, { runs, bedrock, objects, send, settings });

/** Built on first use, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
