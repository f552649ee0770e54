import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The functions' esbuild plugins (serverless.yml, custom.esbuild.plugins), as serverless-esbuild loads them. */
export const PLUGINS = require('../../../scripts/esbuild-plugins') as Plugin[];

/**
 * Writes `source` (a module importing the project's code or its libraries) into `dir` and bundles it as a function's
 * handler is bundled: minified CommonJS for Node 22, its map beside it without the sources' content. Returns the
 * bundle's path, `<outdir>/<entryName>.js` (by default `<dir>/out/<name>.js`).
 */
export async function bundleAsHandler(
  dir: string,
  name: string,
  source: string,
  opts: { outdir?: string; entryName?: string; sourcemap?: 'external' | 'linked'; plugins?: Plugin[] } = {},
): Promise<string> {
  const { outdir = path.join(dir, 'out'), entryName = name, sourcemap = 'external', plugins = PLUGINS } = opts;
  const entry = path.join(dir, `${name}-entry.ts`);
  writeFileSync(entry, source);
  await build({
    entryPoints: { [entryName]: entry },
    outdir,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['module', 'main'],
    // The entries are written outside the project: its libraries are resolved from its node_modules.
    nodePaths: [path.join(ROOT, 'node_modules')],
    sourcemap,
    sourcesContent: false,
    plugins,
    logLevel: 'silent',
  });
  return path.join(outdir, `${entryName}.js`);
}
