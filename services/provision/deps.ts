import { lazyByEnv } from '../../shared/aws/clients';
import { buildOrchestrationDeps } from '../../shared/orchestration/compose';

/** The provision function's dependencies, built once per environment. */
export const getDeps = lazyByEnv(buildOrchestrationDeps);
