import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';

/** Every deployed function's zip at most this size: each megabyte is read and compiled at every cold start. */
const LIMIT_BYTES = 1_000_000;
const ROOT = path.resolve(__dirname, '../../..');

/**
 * Given serverless.yml's packaging (serverless-esbuild, custom.esbuild), when `serverless package` builds the
 * service as a deploy would, then each function's zip holds its minified handler and a source map of the project's
 * own files, and weighs at most 1 MB. The test packages by itself (into a directory of its own), so it checks the
 * zips of the code under test, in CI before `npm run package` as everywhere else.
 */
describe('serverless package', () => {
  let dir: string;
  let functions: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'btp-package-'));
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/serverless/bin/serverless.js'), 'package', '--package', dir], {
      cwd: ROOT,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SLS_DEPRECATION_DISABLE: '*' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const state = JSON.parse(readFileSync(path.join(dir, 'serverless-state.json'), 'utf8')) as { service: { functions: Record<string, unknown> } };
    functions = Object.keys(state.service.functions);
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives every function a zip of at most 1 MB', () => {
    expect(functions.length).toBeGreaterThan(0);
    const sizes = Object.fromEntries(functions.map((fn) => [fn, existsSync(zipOf(fn)) ? statSync(zipOf(fn)).size : null]));
    const over = Object.entries(sizes).filter(([, size]) => size === null || size > LIMIT_BYTES);
    expect({ over, sizes }).toEqual({ over: [], sizes });
  });

  it('ships the minified handler and a map of the project sources only, without their content', async () => {
    for (const fn of functions) {
      const zip = await JSZip.loadAsync(readFileSync(zipOf(fn)));
      const files = Object.values(zip.files).filter((f) => !f.dir).map((f) => f.name).sort();
      const handler = files.find((f) => f.endsWith('.js'));
      expect({ fn, files }).toEqual({ fn, files: [handler, `${handler}.map`] });
      const code = await zip.file(handler!)!.async('string');
      expect(code.trimEnd().endsWith(`//# sourceMappingURL=${path.basename(handler!)}.map`)).toBe(true);
      // Minified: a bundle of readable code has a line per statement.
      expect(code.length / code.split('\n').length).toBeGreaterThan(500);
      const map = JSON.parse(await zip.file(`${handler}.map`)!.async('string')) as { sources: string[]; sourcesContent?: unknown; mappings: string };
      expect(map.sourcesContent).toBeUndefined();
      expect(map.sources.filter((s) => s.includes('node_modules/'))).toEqual([]);
      expect(map.sources).toContainEqual(expect.stringMatching(new RegExp(`services/${fn}/handler\\.ts$`)));
      expect(map.mappings.length).toBeGreaterThan(0);
    }
  });

  const zipOf = (fn: string) => path.join(dir, `${fn}.zip`);
});
