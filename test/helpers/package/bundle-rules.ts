import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import JSZip from 'jszip';

/** Every deployed function's zip at most this size: each megabyte is read and compiled at every cold start. */
export const ZIP_LIMIT_BYTES = 1_000_000;

/** A file of code the handler loads when it first needs it (scripts/esbuild-plugins.js, separateFiles). */
const SEPARATE_FILE = /\.lib-[\w-]+\.js(\.map)?$/;

/** What a function's zip from `serverless package` holds: its size, its file names, its handler and map. */
export interface FunctionZip {
  fn: string;
  bytes: number;
  files: string[];
  code: string;
  map: { sources: string[]; sourcesContent?: unknown; mappings: string };
}

/** Reads each function's zip (`<fn>.zip` in the package directory); a function without one is left out. */
export async function readZips(dir: string, functions: string[]): Promise<FunctionZip[]> {
  const zips: FunctionZip[] = [];
  for (const fn of functions) {
    const file = path.join(dir, `${fn}.zip`);
    if (!existsSync(file)) continue;
    const zip = await JSZip.loadAsync(readFileSync(file));
    const files = Object.values(zip.files)
      .filter((f) => !f.dir)
      .map((f) => f.name)
      .sort();
    const handler = files.find((f) => f.endsWith('.js') && !SEPARATE_FILE.test(f)) ?? '';
    const text = async (name: string) => (await zip.file(name)?.async('string')) ?? '';
    const map = await text(`${handler}.map`);
    zips.push({
      fn,
      bytes: statSync(file).size,
      files,
      code: await text(handler),
      map: map ? JSON.parse(map) : { sources: [], mappings: '' },
    });
  }
  return zips;
}

/**
 * The bundle rules (serverless.yml, custom.esbuild): a zip per function, of at most `limit` bytes, holding only the
 * minified handler and its source map, and the files of code it loads when it first needs it (named after the handler);
 * the map names the project's own sources only and carries no copy of them.
 */
export function zipFindings(functions: string[], zips: FunctionZip[], limit = ZIP_LIMIT_BYTES): string[] {
  const findings: string[] = [];
  for (const fn of functions) if (!zips.some((z) => z.fn === fn)) findings.push(`${fn}: no zip`);
  for (const z of zips) {
    if (z.bytes > limit) findings.push(`${z.fn}: zip of ${z.bytes} bytes, over ${limit}`);
    const handler = z.files.find((f) => f.endsWith('.js') && !SEPARATE_FILE.test(f));
    const separate = (f: string) => handler && f.startsWith(handler.replace(/\.js$/, '.')) && SEPARATE_FILE.test(f);
    if (!handler || z.files.filter((f) => !separate(f)).join() !== [handler, `${handler}.map`].join())
      findings.push(`${z.fn}: ships ${z.files.join(', ')}`);
    // Minified: a bundle of readable code has a line per statement.
    if (z.code.length / z.code.split('\n').length < 500) findings.push(`${z.fn}: handler not minified`);
    // The map is read by the code at the bundle's top when a stack is first formatted, never by Node at each start
    // (scripts/mapped-stack-traces.js): the handler names no map.
    if (z.code.includes('//# sourceMappingURL='))
      findings.push(`${z.fn}: handler names its map, which Node then reads`);
    if (!z.code.startsWith('(()=>{"use strict";') || !z.code.includes('Error.prepareStackTrace='))
      findings.push(`${z.fn}: handler without the code that maps its stack traces`);
    if (z.map.sourcesContent !== undefined) findings.push(`${z.fn}: map carries the sources' content`);
    const libraries = z.map.sources.filter((s) => s.split('/').includes('node_modules'));
    if (libraries.length > 0) findings.push(`${z.fn}: map of ${libraries.length} library files`);
    if (!z.map.sources.some((s) => s.endsWith(`services/${z.fn}/handler.ts`)) || !z.map.mappings)
      findings.push(`${z.fn}: map without the handler's source`);
  }
  return findings;
}
