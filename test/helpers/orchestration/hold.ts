import type { BedrockPort } from '../../../shared/orchestration/ports';

/**
 * A copy of a step's ports whose Bedrock call `op` waits, once reached, until `release()`: a test's way to hold one
 * copy of a message at a named call while other copies move the run on. Its other calls are the originals, so it
 * works over the real adapter (on the emulators) and over the fakes alike.
 */
export function holdAt<D extends { bedrock: BedrockPort }>(deps: D, op: keyof BedrockPort) {
  let reached!: () => void;
  let release!: () => void;
  const arrived = new Promise<void>((r) => (reached = r));
  const gate = new Promise<void>((r) => (release = r));
  const call = (deps.bedrock[op] as (...args: unknown[]) => Promise<unknown>).bind(deps.bedrock);
  const bedrock = Object.assign(Object.create(deps.bedrock) as BedrockPort, {
    [op]: async (...args: unknown[]) => {
      reached();
      await gate;
      return call(...args);
    },
  });
  return { deps: { ...deps, bedrock }, arrived, release };
}
