import { lazyByEnv } from '../../shared/aws/clients';
import { buildOrchestrationDeps } from '../../shared/orchestration/compose';

/** The evaluate function's dependencies, built once per environment. */
export const getDeps = lazyByEnv(buildOrchestrationDeps);
