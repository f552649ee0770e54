import { lazyByEnv, makeBedrockRuntime } from '../../shared/aws/clients';
import { buildInvokeText } from '../../shared/orchestration/bedrock-adapter';
import { objects, portsFromEnv, runs, send, settings } from '../../shared/orchestration/ports-from-env';
import type { EvaluateDeps } from './evaluate';

/**
 * Composition root: the ports the evaluate step uses. It only invokes the model (the runtime client), never the
 * control plane; it sends its own delayed retries when the model is throttled.
 */
export const buildDeps = (env: NodeJS.ProcessEnv): EvaluateDeps => ({
  ...portsFromEnv(env, { runs, objects, send, settings }),
  bedrock: { invokeText: buildInvokeText(makeBedrockRuntime()) },
});

/** Built on first use, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
