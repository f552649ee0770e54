import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import iconv from 'iconv-lite';

// The functions' esbuild plugins (serverless.yml, custom.esbuild.plugins), as serverless-esbuild loads them.
const plugins = require('../../../scripts/esbuild-plugins') as Plugin[];

const ROOT = path.resolve(__dirname, '..', '..', '..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'btp-separate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles `source` (a module importing the project's code) as a function's handler is bundled; returns its path. */
async function bundle(name: string, source: string): Promise<string> {
  const entry = path.join(dir, `${name}-entry.ts`);
  writeFileSync(entry, source);
  const outdir = path.join(dir, 'out');
  await build({
    entryPoints: { [name]: entry },
    outdir,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['module', 'main'],
    sourcemap: 'linked',
    sourcesContent: false,
    plugins,
    logLevel: 'silent',
  });
  return path.join(outdir, `${name}.js`);
}

/** Runs `script` in a fresh node with `bundle` required as `m`; returns what it prints. */
const run = (bundlePath: string, script: string) =>
  execFileSync(
    process.execPath,
    ['-e', `(async () => { const m = require(${JSON.stringify(bundlePath)}); ${script} })()`],
    { encoding: 'utf8' },
  );

describe('code that only some inputs need, in a file of its own beside the bundle', () => {
  it('iconv-lite: not in the bundle, loaded from its file when an input first names an encoding', async () => {
    const out = await bundle('reader', `export { checkEncoding, logicalStream } from '${ROOT}/shared/prep/source';`);
    const lib = out.replace(/\.js$/, '.lib-iconv-lite.js');
    expect(existsSync(lib)).toBe(true);
    // iconv-lite's tables (about 480 KB) are in its file, not in the bundle.
    expect(statSync(lib).size).toBeGreaterThan(300_000);
    expect(statSync(out).size).toBeLessThan(50_000);
    const text = 'こんにちは、世界';
    const printed = run(
      out,
      `
      const loaded = () => Object.keys(require.cache).some((f) => f.endsWith('.lib-iconv-lite.js'));
      const before = loaded();
      const none = await m.checkEncoding(undefined);
      const afterNone = loaded();
      const encoding = await m.checkEncoding('shift_jis');
      const { Readable } = require('node:stream');
      const s = await m.logicalStream(Readable.from([Buffer.from(${JSON.stringify(iconv.encode(text, 'shift_jis').toString('base64'))}, 'base64')]), 'none', encoding);
      const chunks = [];
      for await (const c of s) chunks.push(c);
      const bad = await m.checkEncoding('no-such-encoding').then(() => 'accepted', (e) => e.message);
      console.log(JSON.stringify({ before, none, afterNone, encoding, after: loaded(), text: Buffer.concat(chunks).toString('utf8'), bad }));
      `,
    );
    expect(JSON.parse(printed)).toEqual({
      before: false,
      afterNone: false,
      encoding: 'shift_jis',
      after: true,
      text,
      bad: expect.stringContaining(
        'prep.encoding "no-such-encoding" is not an encoding this pipeline can convert from',
      ),
    });
  });

  it("the report's charts: not in the bundle, loaded from a file with its own map of the project's sources", async () => {
    const out = await bundle('charts', `export { buildReport } from '${ROOT}/shared/report/build-report';`);
    const lib = out.replace(/\.js$/, '.lib-charts.js');
    expect(statSync(lib).size).toBeGreaterThan(300_000);
    expect(statSync(out).size).toBeLessThan(300_000);
    const map = JSON.parse(readFileSync(`${lib}.map`, 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sources.map((s) => path.basename(s))).toEqual(['charts.ts']);
    expect(map.sourcesContent).toBeUndefined();
    expect(readFileSync(lib, 'utf8').trimEnd().endsWith('//# sourceMappingURL=charts.lib-charts.js.map')).toBe(true);
    // Required when the report is built: buildReport draws its charts with ECharts from that file.
    const printed = run(
      out,
      `
      const loaded = () => Object.keys(require.cache).some((f) => f.endsWith('.lib-charts.js'));
      console.log(JSON.stringify({ loaded: loaded(), buildReport: typeof m.buildReport }));
      `,
    );
    expect(JSON.parse(printed)).toEqual({ loaded: true, buildReport: 'function' });
  });
});
