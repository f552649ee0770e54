import { lazyByEnv, makeBedrockRuntime } from '../../shared/aws/clients';
import { buildInvokeText } from '../../shared/orchestration/bedrock-adapter';
import {
  bedrockOnFirstCall,
  count,
  objects,
  portsFromEnv,
  runs,
  send,
  settings,
} from '../../shared/orchestration/ports-from-env';
import type { EvaluateDeps } from './evaluate';

/**
 * Composition root: the ports the evaluate step uses. It invokes the model (the runtime client) and, when the gate
 * decides against the model, deletes its throughput and custom model (the control plane); it sends its own delayed
 * retries when the model is throttled.
 */
export const buildDeps = (env: NodeJS.ProcessEnv): EvaluateDeps => {
  const ports = portsFromEnv(env, { runs, objects, send, settings, count, bedrock: bedrockOnFirstCall });
  return { ...ports, bedrock: { ...ports.bedrock, invokeText: buildInvokeText(makeBedrockRuntime()) } };
};

/** Built on first use, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
