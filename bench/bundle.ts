import path from 'node:path';
import { build, type Plugin } from 'esbuild';

/** The functions' esbuild plugins (serverless.yml, custom.esbuild.plugins), as serverless-esbuild loads them. */
const PLUGINS = require('../scripts/esbuild-plugins') as Plugin[];

/**
 * The core's benchmark entry (core-case.ts) and its chunk worker as esbuild bundles in `outDir`, built as the
 * functions are deployed (serverless.yml's esbuild settings and plugins: one minified CommonJS file for Node 22, with
 * the code some inputs need only, iconv-lite's tables among it, in files of their own loaded when first imported):
 * what a deployed transform or split loads is a bundle, never the TypeScript. Run from the sources instead, the case's
 * process spends about a second of CPU in tsx compiling them, and a worker started from them its first 300 ms.
 */
export async function bundleCore(outDir: string): Promise<{ coreCase: string; chunkWorker: string }> {
  const [coreCase, chunkWorker] = await Promise.all([bundle('core-case', outDir), bundle('chunk-worker', outDir)]);
  return { coreCase, chunkWorker };
}

/** One entry of bench/ (`name`.ts) as a bundle in `outDir`: its path. */
export async function bundle(name: string, outDir: string): Promise<string> {
  const outfile = path.join(outDir, `${name}.js`);
  await build({
    entryPoints: [path.join(__dirname, `${name}.ts`)],
    outfile,
    bundle: true,
    minify: true,
    mainFields: ['module', 'main'],
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    plugins: PLUGINS,
    logLevel: 'silent',
    // Only the sources' own run (tsx, without a worker bundle given) builds the worker in the case's process: the
    // bundle itself holds neither esbuild nor the plugins.
    external: ['esbuild', '../scripts/esbuild-plugins'],
  });
  return outfile;
}
