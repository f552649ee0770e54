import { lazyByEnv, makeBedrockRuntime, makeS3 } from '../../shared/aws/clients';
import { sendFromEnv } from '../../shared/aws/queues';
import { buildObjectStore } from '../../shared/aws/s3-io';
import { buildInvokeText } from '../../shared/orchestration/bedrock-adapter';
import { settingsFromEnv } from '../../shared/orchestration/settings';
import { runStoreFromEnv } from '../../shared/runs/from-env';
import type { EvaluateDeps } from './evaluate';

/** Composition root: environment -> SDK clients -> adapters. Evaluate only invokes the model: no control-plane client. */
export function buildDeps(env: NodeJS.ProcessEnv): EvaluateDeps {
  const now = () => new Date();
  return {
    runs: runStoreFromEnv(env),
    bedrock: { invokeText: buildInvokeText(makeBedrockRuntime()) },
    objects: buildObjectStore(makeS3()),
    send: sendFromEnv(env, now), // its own delayed retries when the model is throttled
    settings: settingsFromEnv(env),
    now,
  };
}

/** Built on the first record, once per environment. */
export const getDeps = lazyByEnv(buildDeps);
