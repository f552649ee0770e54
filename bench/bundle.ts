import path from 'node:path';
import { build } from 'esbuild';

/**
 * The core's benchmark entry (core-case.ts) and its chunk worker as esbuild bundles in `outDir`, built as the
 * functions are deployed (serverless.yml's esbuild settings: one minified CommonJS file for Node 22): what a deployed
 * transform or split loads is a bundle, never the TypeScript. Run from the sources instead, the case's process spends
 * about a second of CPU in tsx compiling them, and a worker started from them its first 300 ms.
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
    logLevel: 'silent',
    // Only the sources' own run (tsx, without a worker bundle given) builds the worker in the case's process.
    external: ['esbuild'],
  });
  return outfile;
}
