import { build, type BuildOptions, type Plugin } from 'esbuild';
import path from 'node:path';
import type { FunctionSpec } from './topology';
import { PROJECT_ROOT, type ResolvedServerless } from './serverless-config';

/** serverless-esbuild's own keys in `custom.esbuild`; every other key is an esbuild option, passed as it is. */
const PLUGIN_KEYS = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
  'plugins',
]);

/**
 * The esbuild options serverless-esbuild builds each function with, from serverless.yml's `custom.esbuild` (as
 * `serverless print` resolves it): the same settings and the same plugins, so what the local stack runs and what the
 * bench measures is what a deploy uploads.
 */
export function esbuildOptionsFrom(config: Pick<ResolvedServerless, 'custom'>): BuildOptions & { plugins: Plugin[] } {
  const settings = config.custom?.esbuild;
  if (!settings) throw new Error('serverless.yml has no custom.esbuild');
  const options = Object.fromEntries(Object.entries(settings).filter(([key]) => !PLUGIN_KEYS.has(key))) as BuildOptions;
  const plugins =
    typeof settings.plugins === 'string' ? (require(path.join(PROJECT_ROOT, settings.plugins)) as Plugin[]) : [];
  return { ...options, plugins };
}

/** Bundles every function's handler with esbuild, with serverless.yml's settings (see esbuildOptionsFrom). */
export async function bundleFunctions(
  functions: Record<string, FunctionSpec>,
  outDir: string,
  config: Pick<ResolvedServerless, 'custom'>,
): Promise<Record<string, string>> {
  const entryPoints = Object.fromEntries(
    Object.entries(functions).map(([key, fn]) => [key, path.join(PROJECT_ROOT, `${fn.handlerFile}.ts`)]),
  );
  await build({ ...esbuildOptionsFrom(config), entryPoints, outdir: outDir, logLevel: 'silent' });
  return Object.fromEntries(Object.keys(functions).map((key) => [key, path.join(outDir, `${key}.js`)]));
}
