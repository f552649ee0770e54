import * as controlPlane from '../aws/bedrock-control-plane';
import { makeS3 } from '../aws/clients';
import { sendFromEnv } from '../aws/queues';
import { buildObjectStore } from '../aws/s3-io';
import { countFigure } from '../lambda/metrics';
import { runStoreFromEnv } from '../runs/from-env';
import { buildBedrockPort } from './bedrock-adapter';
import type { OrchestrationDeps } from './ports';
import { settingsFromEnv } from './settings';

type Port = Exclude<keyof OrchestrationDeps, 'now' | 'random'>;
type Builder<K extends Port> = (env: NodeJS.ProcessEnv, now: () => Date) => OrchestrationDeps[K];

/**
 * How each port is built from the environment. Each builder is an export of its own, which a function's deps.ts
 * imports by name: a bundle then holds the SDK clients of the ports its function uses and no others (a table of every
 * builder kept the S3 client in functions that never read an object, paid for at each cold start).
 */
export const runs: Builder<'runs'> = (env) => runStoreFromEnv(env);
export const bedrock: Builder<'bedrock'> = () =>
  buildBedrockPort({ client: controlPlane.makeBedrock(), sdk: controlPlane });
/**
 * The same port, with the control plane's client and commands loaded at its first call: for a function that calls
 * the control plane only now and then (evaluate, whose gate may delete a model; the sweeper, which deletes a
 * throughput when it expires). Bundled, the module is a file beside the handler (scripts/esbuild-plugins.js).
 */
export const bedrockOnFirstCall: Builder<'bedrock'> = () =>
  buildBedrockPort(async () => {
    const sdk = await import('../aws/bedrock-control-plane');
    return { client: sdk.makeBedrock(), sdk };
  });
export const objects: Builder<'objects'> = () => buildObjectStore(makeS3());
export const send: Builder<'send'> = (env, now) => sendFromEnv(env, now);
export const count: Builder<'count'> = () => countFigure;
export const settings: Builder<'settings'> = (env) => settingsFromEnv(env);

/**
 * The orchestration ports a function names, and no others: each services/<fn>/deps.ts passes the builders of what its
 * step uses, so a function gets no client (and reads no environment) it does not need.
 */
export function portsFromEnv<K extends Port>(
  env: NodeJS.ProcessEnv,
  builders: { [P in K]: Builder<P> },
): Pick<OrchestrationDeps, K> & Pick<OrchestrationDeps, 'now'> {
  const now = () => new Date();
  const ports = Object.fromEntries(
    (Object.keys(builders) as K[]).map((name) => [name, builders[name](env, now)]),
  ) as Pick<OrchestrationDeps, K>;
  return { ...ports, now };
}
