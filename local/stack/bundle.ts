import { build } from 'esbuild';
import path from 'node:path';
import type { FunctionSpec } from './topology';
import { PROJECT_ROOT } from './serverless-config';

/**
 * Bundles every function's handler with esbuild, with the settings serverless.yml gives serverless-esbuild
 * (node22, CommonJS, bundled), so the local stack runs what a deploy would upload.
 */
export async function bundleFunctions(functions: Record<string, FunctionSpec>, outDir: string): Promise<Record<string, string>> {
  const entryPoints = Object.fromEntries(
    Object.entries(functions).map(([key, fn]) => [key, path.join(PROJECT_ROOT, `${fn.handlerFile}.ts`)]),
  );
  await build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    sourcemap: 'linked',
    logLevel: 'silent',
    // The same reason Lambda's Node runtime needs none of these: they are optional dependencies of bundled packages.
    external: ['@aws-sdk/signature-v4-crt', 'aws-crt'],
  });
  return Object.fromEntries(Object.keys(functions).map((key) => [key, path.join(outDir, `${key}.js`)]));
}
