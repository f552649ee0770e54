import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { bundleAsHandler, ROOT } from '../../helpers/package/bundle';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'btp-separate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundle = (name: string, source: string) => bundleAsHandler(dir, name, source);

/** Runs `script` in a fresh node with `bundle` required as `m`; returns what it prints. */
const run = (bundlePath: string, script: string, env?: NodeJS.ProcessEnv) =>
  execFileSync(
    process.execPath,
    ['-e', `(async () => { const m = require(${JSON.stringify(bundlePath)}); ${script} })()`],
    { encoding: 'utf8', env },
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
    expect(readFileSync(lib, 'utf8')).not.toContain('//# sourceMappingURL=');
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

  it("the Bedrock control plane: loaded from its file at a port's first call, its errors the port's own", async () => {
    const out = await bundle(
      'control-plane',
      `export { bedrockOnFirstCall } from '${ROOT}/shared/orchestration/ports-from-env';
       export { isBedrockError } from '${ROOT}/shared/orchestration/ports';`,
    );
    const lib = out.replace(/\.js$/, '.lib-bedrock-control-plane.js');
    // The client and the schemas of the commands the port sends are in the file, not in the bundle; the schemas of
    // Bedrock's other operations are in neither (scripts/esbuild-plugins.js, sdkSchemasTreeShaken).
    expect(readFileSync(lib, 'utf8')).toContain('CreateModelCustomizationJobRequest');
    expect(readFileSync(out, 'utf8')).not.toContain('CreateModelCustomizationJobRequest');
    expect(readFileSync(lib, 'utf8')).not.toContain('ModelCustomizationJobSummary');
    // A Bedrock that knows no model: the file is read at the first call, and the SDK's error, thrown by the file's
    // copy of the SDK, reaches the caller as the port's own error kind, which is what the evaluate step checks.
    const printed = run(
      out,
      `
      const loaded = () => Object.keys(require.cache).some((f) => f.endsWith('.lib-bedrock-control-plane.js'));
      const http = require('node:http');
      const paths = [];
      const server = http.createServer((req, res) => {
        paths.push(req.method + ' ' + req.url);
        req.resume();
        req.on('end', () => {
          res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
          res.end(JSON.stringify({ message: 'no such model' }));
        });
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      process.env.AWS_ENDPOINT_URL_BEDROCK = 'http://127.0.0.1:' + server.address().port;
      const port = m.bedrockOnFirstCall(process.env, () => new Date());
      const before = loaded();
      const err = await port.deleteCustomModel('model-1').then(() => undefined, (e) => e);
      const again = await port.deleteCustomModel('model-2').then(() => undefined, (e) => e);
      server.close();
      console.log(JSON.stringify({ before, after: loaded(), notFound: [m.isBedrockError(err, 'not-found'), m.isBedrockError(again, 'not-found')], paths }));
      `,
      { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 's' },
    );
    expect(JSON.parse(printed)).toEqual({
      before: false,
      after: true,
      notFound: [true, true],
      paths: ['DELETE /custom-models/model-1', 'DELETE /custom-models/model-2'],
    });
  });

  it("the SDK's credential providers other than the environment's: loaded from their file only without credentials in the environment", async () => {
    const out = await bundle('credentials', `export { defaultProvider } from '@aws-sdk/credential-provider-node';`);
    expect(existsSync(out.replace(/\.js$/, '.lib-credential-providers.js'))).toBe(true);
    const script = `
      const loaded = () => Object.keys(require.cache).some((f) => f.endsWith('.lib-credential-providers.js'));
      const before = loaded();
      const { accessKeyId } = await m.defaultProvider()();
      console.log(JSON.stringify({ before, accessKeyId, after: loaded() }));
    `;
    // As in Lambda: the credentials are in the environment, and the file is never read.
    const fromEnv = run(out, script, {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: 'AKIDENV',
      AWS_SECRET_ACCESS_KEY: 's',
    });
    expect(JSON.parse(fromEnv)).toEqual({ before: false, accessKeyId: 'AKIDENV', after: false });
    // A profile of the shared credentials file: read by the ini provider, from the file.
    const credentials = path.join(dir, 'credentials');
    writeFileSync(credentials, '[btp-test]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n');
    const fromFile = run(out, script, {
      PATH: process.env.PATH,
      AWS_PROFILE: 'btp-test',
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: path.join(dir, 'no-config'),
    });
    expect(JSON.parse(fromFile)).toEqual({ before: false, accessKeyId: 'AKIDFILE', after: true });
  });

  it("the SSO OIDC client of the Bedrock clients' token providers: in the credential providers' file", async () => {
    const out = await bundle('token', `export { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';`);
    // Its CreateToken operation's schemas, which the token providers import with import() for an SSO session's token.
    expect(readFileSync(out.replace(/\.js$/, '.lib-credential-providers.js'), 'utf8')).toContain('CreateTokenRequest');
    expect(readFileSync(out, 'utf8')).not.toContain('CreateTokenRequest');
  });
});
