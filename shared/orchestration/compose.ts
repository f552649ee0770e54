import { buildPublish } from '../aws/queues';
import { makeBedrock, makeBedrockRuntime, makeS3, makeSqs } from '../aws/clients';
import { runStoreFromEnv } from '../runs/from-env';
import { buildBedrockPort } from './bedrock-adapter';
import { buildObjectStore } from './objects-adapter';
import type { OrchestrationDeps } from './ports';
import { settingsFromEnv } from './settings';

/**
 * The composition root the submit, monitor, provision and sweeper functions share: environment -> SDK clients ->
 * adapters. Each service's deps.ts calls it lazily (lazyByEnv), so importing a handler reads no environment.
 */
export function buildOrchestrationDeps(env: NodeJS.ProcessEnv) {
  const sqs = makeSqs();
  const deps: OrchestrationDeps = {
    runs: runStoreFromEnv(env),
    bedrock: buildBedrockPort(makeBedrock(), makeBedrockRuntime()),
    objects: buildObjectStore(makeS3()),
    publish: buildPublish(sqs),
    settings: settingsFromEnv(env),
    now: () => new Date(),
  };
  return { ...deps, sqs };
}
