import { makeBedrock, makeS3 } from '../aws/clients';
import { sendFromEnv } from '../aws/queues';
import { buildObjectStore } from '../aws/s3-io';
import { countFigure } from '../lambda/metrics';
import { runStoreFromEnv } from '../runs/from-env';
import { buildBedrockPort } from './bedrock-adapter';
import type { OrchestrationDeps } from './ports';
import { settingsFromEnv } from './settings';

type Port = Exclude<keyof OrchestrationDeps, 'now' | 'random'>;

/** How each port is built from the environment: its SDK client is made only when a function asks for the port. */
const BUILDERS: { [K in Port]: (env: NodeJS.ProcessEnv, now: () => Date) => OrchestrationDeps[K] } = {
  runs: (env) => runStoreFromEnv(env),
  bedrock: () => buildBedrockPort(makeBedrock()),
  objects: () => buildObjectStore(makeS3()),
  send: (env, now) => sendFromEnv(env, now),
  count: () => countFigure,
  settings: (env) => settingsFromEnv(env),
};

/**
 * The orchestration ports a function names, and no others: each services/<fn>/deps.ts lists what its step uses, so
 * a function gets no client (and reads no environment) it does not need.
 */
export function portsFromEnv<K extends Port>(
  env: NodeJS.ProcessEnv,
  wanted: readonly K[],
): Pick<OrchestrationDeps, K> & Pick<OrchestrationDeps, 'now'> {
  const now = () => new Date();
  const ports = Object.fromEntries(wanted.map((name) => [name, BUILDERS[name](env, now)])) as Pick<
    OrchestrationDeps,
    K
  >;
  return { ...ports, now };
}
