import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Plugin } from 'esbuild';
// The functions' esbuild plugins (serverless.yml, custom.esbuild.plugins), the last of which maps stack traces.
import { bundleAsHandler, PLUGINS as plugins, ROOT } from '../../helpers/package/bundle';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'btp-traces-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles `source` as a function's handler is bundled, with the given map setting and plugins; returns its path. */
const bundle = (name: string, source: string, sourcemap: 'external' | 'linked', withPlugins: Plugin[]) =>
  bundleAsHandler(dir, name, source, {
    outdir: path.join(dir, name),
    entryName: 'handler',
    sourcemap,
    plugins: withPlugins,
  });

/** The stacks of three errors thrown through the bundle `m`, printed by a fresh node with `flags`. */
const stacks = (bundlePath: string, flags: string[]) =>
  execFileSync(
    process.execPath,
    [
      ...flags,
      '-e',
      `const m = require(${JSON.stringify(bundlePath)});
       const thrown = (f) => { try { f(); } catch (e) { return e.stack; } };
       console.log(JSON.stringify([
         thrown(() => m.portsFromEnv({}, { runs: m.runs })),
         thrown(() => m.requireEnv('BTP_NOTHING', {})),
         thrown(() => Buffer.alloc(-1)),
       ]));`,
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH } },
  );

describe("a bundle's stack traces", () => {
  it('map to the TypeScript as Node maps them with --enable-source-maps, without Node reading the map at load', async () => {
    const source = `export { portsFromEnv, runs } from '${ROOT}/shared/orchestration/ports-from-env';
      export { requireEnv } from '${ROOT}/shared/aws/clients';`;
    const ours = await bundle('ours', source, 'external', plugins);
    // Node's own support: the map named at the bundle's end, the flag set, and no code of ours at the top.
    const mappedStackTraces = plugins.find((p) => p.name === 'mapped-stack-traces')!;
    const nodes = await bundle(
      'nodes',
      source,
      'linked',
      plugins.filter((p) => p !== mappedStackTraces),
    );
    expect(readFileSync(ours, 'utf8')).not.toContain('sourceMappingURL');
    expect(readFileSync(nodes, 'utf8')).toContain('sourceMappingURL');

    const printed = JSON.parse(stacks(ours, [])) as string[];
    expect(printed).toEqual(JSON.parse(stacks(nodes, ['--enable-source-maps'])));
    // Which is the TypeScript's: the throw in requireEnv, then its callers by their names in the sources.
    const clients = path.join(ROOT, 'shared', 'aws', 'clients.ts');
    const line =
      readFileSync(clients, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('is not set`);')) + 1;
    expect(printed[0]!.split('\n').slice(0, 3)).toEqual([
      'Error: Environment variable BTP_RUNS_TABLE is not set',
      expect.stringMatching(new RegExp(`^ {4}at requireEnv \\(${clients}:${line}:\\d+\\)$`)),
      expect.stringMatching(/^ {4}at runStoreFromEnv \(.*\/shared\/runs\/from-env\.ts:\d+:\d+\)$/),
    ]);
    expect(printed[2]).toMatch(/^RangeError \[ERR_OUT_OF_RANGE\]: /);
    // Without any of it, the same stack names the minified bundle.
    const bare = await bundle(
      'bare',
      source,
      'external',
      plugins.filter((p) => p !== mappedStackTraces),
    );
    const unmapped = (JSON.parse(stacks(bare, [])) as string[])[0]!;
    expect(unmapped).toContain(`(${bare}:`);
    expect(unmapped).not.toContain('clients.ts');
  });
});
