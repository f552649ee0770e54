// esbuild plugins for the Lambda bundles, loaded by serverless-esbuild (serverless.yml, custom.esbuild.plugins) and by
// the local stack's bundler (local/stack/bundle.ts). Plain CommonJS: serverless-esbuild require()s this file.
'use strict';
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { decode, encode } = require('@jridgewell/sourcemap-codec');

/**
 * Keeps in each bundle's source map only the positions that come from this project's own files. A minified bundle's
 * map is larger than the bundle (every token of every library gets a segment: report's was 2.3 MB beside 1.3 MB of
 * code), while a stack trace worth mapping back is one through the project's code; a frame inside a library keeps its
 * position in handler.js. The project's frames still map to file, line and name (mappedStackTraces below).
 */
const projectSourcesOnly = {
  name: 'project-sources-only',
  setup(build) {
    build.onEnd((result) => {
      const outdir = build.initialOptions.outdir;
      if (result.errors.length > 0 || !outdir) return;
      for (const name of readdirSync(outdir)) {
        if (name.endsWith('.js.map')) trimMap(path.join(outdir, name));
      }
    });
  },
};

/**
 * Libraries that import zod's `z` by name, which esbuild cannot tree-shake: the binding is zod's whole classic API
 * with every locale (https://github.com/colinhacks/zod/issues/6597), 350 KB in each bundle. The project's own code
 * imports `* as z` (a lint rule keeps it so); these get the same import when bundled, to the same effect, since a
 * namespace import of 'zod' has every member its `z` has.
 */
const ZOD_BY_NAME = /[\\/]node_modules[\\/]@aws-lambda-powertools[\\/]parser[\\/].*\.js$/;

const zodAsNamespace = {
  name: 'zod-as-namespace',
  setup(build) {
    build.onLoad({ filter: ZOD_BY_NAME }, (args) => ({
      contents: zodImportsAsNamespace(readFileSync(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

/** `import { ZodError, z } from 'zod'` -> `import * as z from 'zod'; import { ZodError } from 'zod';` */
function zodImportsAsNamespace(code) {
  return code.replace(/import\s*\{([^}]*)\}\s*from\s*(['"])zod\2;?/g, (whole, names) => {
    const specifiers = names
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    if (!specifiers.includes('z')) return whole;
    const rest = specifiers.filter((n) => n !== 'z');
    return `import * as z from 'zod';${rest.length ? ` import { ${rest.join(', ')} } from 'zod';` : ''}`;
  });
}

/**
 * Libraries whose modules do nothing at load but define things, and whose package.json does not say so
 * ("sideEffects": false), as the SDK's clients' do. Said here, esbuild leaves such a library out of a bundle whose
 * function uses none of it, where it would otherwise keep every module reached through an import: lib-storage's Upload
 * (a class extending EventEmitter, which esbuild must assume may throw) kept the S3 client's 70 KB of schemas in
 * functions that never upload, paid for at each cold start.
 */
const SIDE_EFFECT_FREE = ['@aws-sdk/lib-storage'];
const inSideEffectFree = (file) =>
  SIDE_EFFECT_FREE.some((name) =>
    file.includes(`${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`),
  );

const sideEffectFreeLibraries = {
  name: 'side-effect-free-libraries',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === sideEffectFreeLibraries) return undefined; // the resolve below, asking again
      if (!SIDE_EFFECT_FREE.some((name) => args.path.startsWith(name)) && !inSideEffectFree(args.importer)) {
        return undefined;
      }
      const result = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        namespace: args.namespace,
        resolveDir: args.resolveDir,
        with: args.with,
        pluginData: sideEffectFreeLibraries,
      });
      if (result.errors.length > 0 || !inSideEffectFree(result.path)) return undefined;
      return { path: result.path, namespace: result.namespace, external: result.external, sideEffects: false };
    });
  },
};

/**
 * The SDK clients' schemas (`dist-es/schemas/schemas_0.js`: a client's every operation, structure and error as arrays)
 * as esbuild can leave out the ones a bundle never reaches. Their traits are objects with computed keys
 * (`{ [_hQ]: _m }`, each key a constant string declared at the file's top), and esbuild keeps any statement holding a
 * computed key, which may run code; so every schema stayed, and with them every string: 77 KB of the Bedrock control
 * plane's 80 KB where a function sends one command, 69 KB of S3's. Here each such key whose constant the file declares
 * is written as that string, the same object, and the schemas no command reaches are dropped.
 */
const SDK_SCHEMAS =
  /[\\/]node_modules[\\/]@aws-sdk[\\/](?:client-[\w-]+|nested-clients)[\\/]dist-es[\\/](?:.*[\\/])?schemas_\d+\.js$/;

const sdkSchemasTreeShaken = {
  name: 'sdk-schemas-tree-shaken',
  setup(build) {
    build.onLoad({ filter: SDK_SCHEMAS }, (args) => ({
      contents: withConstantKeys(readFileSync(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

/** `const _hQ = "httpQuery"; ... { [_hQ]: _m }` -> `... { "httpQuery": _m }`; other computed keys stay. */
function withConstantKeys(code) {
  const strings = new Map();
  for (const m of code.matchAll(/^const (_\w+) =\s*("(?:[^"\\\n]|\\.)*");$/gm)) strings.set(m[1], m[2]);
  return code.replace(/\[(_\w+)\]:/g, (whole, name) => (strings.has(name) ? `${strings.get(name)}:` : whole));
}

/**
 * Code a function needs for some inputs only, each bundled into a file of its own beside the bundle that imports it
 * (`<bundle>.lib-<name>.js`) and required from there when it is first imported. Everything in a bundle is parsed when
 * the function starts, even code that only runs later; a file that is not required is not. What goes into such files:
 * - iconv-lite, which the project imports with import() when an input names an encoding (shared/prep/source.ts): its
 *   tables were about 480 KB of ingest's and transform's bundles;
 * - the report's charts (shared/report/charts.ts with ECharts and zrender, 580 KB of report's bundle), imported by the
 *   report builder, which shared/report/load.ts imports with import() when it writes a report;
 * - the SDK's credential providers other than the environment's, which its default chain imports with import() when
 *   the environment holds no credentials (Lambda's does; they and the STS and SSO clients they use were about 90 KB
 *   of every bundle); in the same file, the SSO OIDC client that the token providers of the Bedrock clients import
 *   with import() for a bearer token from an SSO session (about 13 KB; a function signs its calls with its role's
 *   credentials and never asks for one).
 * - the Bedrock control plane's client and commands (shared/aws/bedrock-control-plane.ts, which imports none of the
 *   project's modules), where a function imports it with import() to call the control plane only now and then
 *   (shared/orchestration/ports-from-env.ts, bedrockOnFirstCall: evaluate and the sweeper; about 90 KB of schemas). A
 *   function that calls it at every invocation imports it as usual and keeps it in its handler.
 * Each file bundles what it imports anew, so it shares no module with its handler: none of these keeps state that the
 * handler's modules read. A project module's file gets a map as the handler does; a library's none. serverless-esbuild
 * zips a file named after a function's handler into that function's zip only (its pack step leaves out of a zip the
 * files whose names begin with another function's handler path).
 */
const inNodeModules = (file) => file.split(/[\\/]/).includes('node_modules');
const inPackage = (file, name) =>
  file.includes(`${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`);
const CHARTS = path.join(__dirname, '..', 'shared', 'report', 'charts.ts');
const CONTROL_PLANE = path.join(__dirname, '..', 'shared', 'aws', 'bedrock-control-plane.ts');
/** Whether an import of the project's names one of its files (`file`, a .ts path). */
const importsProjectFile = (args, file) =>
  !inNodeModules(args.importer) &&
  args.path.startsWith('.') &&
  path.resolve(args.resolveDir, args.path).replace(/\.ts$/, '') === file.slice(0, -3);
const SEPARATE = [
  { name: 'iconv-lite', matches: (args) => !inNodeModules(args.importer) && args.path === 'iconv-lite' },
  { name: 'charts', file: CHARTS, matches: (args) => importsProjectFile(args, CHARTS) },
  {
    name: 'bedrock-control-plane',
    file: CONTROL_PLANE,
    matches: (args) => args.kind === 'dynamic-import' && importsProjectFile(args, CONTROL_PLANE),
  },
  {
    name: 'credential-providers',
    matches: (args) =>
      args.kind === 'dynamic-import' &&
      (inPackage(args.importer, '@aws-sdk/credential-provider-node') ||
        inPackage(args.importer, '@aws-sdk/token-providers')),
  },
];
const SEPARATE_NAMESPACE = 'separate-file';

const separateFiles = {
  name: 'separate-files',
  setup(build) {
    build.initialOptions.metafile = true;
    /** For each file, the specifiers it exports (a library's) and the directory each is resolved from. */
    const imported = new Map(SEPARATE.map((s) => [s.name, new Map()]));
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.namespace !== 'file') return undefined;
      const separate = SEPARATE.find((s) => s.matches(args));
      if (!separate) return undefined;
      if (!separate.file) imported.get(separate.name).set(args.path, args.resolveDir);
      return { path: `${separate.name}:${separate.file ? '' : args.path}`, namespace: SEPARATE_NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: SEPARATE_NAMESPACE }, (args) => {
      const [name, specifier] = [
        args.path.slice(0, args.path.indexOf(':')),
        args.path.slice(args.path.indexOf(':') + 1),
      ];
      // The bundle's own file name is known only when it runs (one build can write several bundles).
      const file = `require(__filename.replace(/\\.js$/, '') + ${JSON.stringify(`.lib-${name}.js`)})`;
      return {
        contents: `module.exports = ${file}${specifier ? `[${JSON.stringify(specifier)}]` : ''};`,
        loader: 'js',
      };
    });
    build.onEnd(async (result) => {
      if (result.errors.length > 0 || !result.metafile) return;
      const cwd = build.initialOptions.absWorkingDir ?? process.cwd();
      const { minify, target, platform, mainFields, format, sourcemap, sourcesContent } = build.initialOptions;
      for (const [output, { inputs }] of Object.entries(result.metafile.outputs)) {
        if (!output.endsWith('.js')) continue;
        const names = new Set(
          Object.keys(inputs)
            .filter((input) => input.startsWith(`${SEPARATE_NAMESPACE}:`))
            .map((input) => input.split(':')[1]),
        );
        for (const name of names) {
          const separate = SEPARATE.find((s) => s.name === name);
          const outfile = path.resolve(cwd, output.replace(/\.js$/, `.lib-${name}.js`));
          // A library's file exports each specifier imported of it, each resolved from where it was imported.
          const entry = [...imported.get(name)].map(
            ([specifier, from]) =>
              `exports[${JSON.stringify(specifier)}] = require(${JSON.stringify(require.resolve(specifier, { paths: [from] }))});`,
          );
          await build.esbuild.build({
            ...(separate.file
              ? { entryPoints: [separate.file], sourcemap, sourcesContent }
              : { stdin: { contents: entry.join('\n'), resolveDir: cwd, loader: 'js' } }),
            outfile,
            bundle: true,
            minify,
            target,
            platform,
            mainFields,
            format,
            plugins: [zodAsNamespace, sideEffectFreeLibraries, sdkSchemasTreeShaken],
            logLevel: 'silent',
          });
          if (separate.file && sourcemap) trimMap(`${outfile}.map`);
        }
      }
    });
  },
};

/**
 * Stack traces mapped to the project's sources without Node's --enable-source-maps: scripts/mapped-stack-traces.js,
 * minified, at the top of each bundle that has a map, formats a stack as Node's support does and reads the map beside
 * the bundle when a stack is first formatted. The bundles are built with `sourcemap: external` (no comment naming the
 * map): Node's support, given such a comment, reads the map and measures every line of the bundle as it compiles it,
 * at each cold start, which cost 13-30 ms of a function's initialisation here.
 */
const mappedStackTraces = {
  name: 'mapped-stack-traces',
  setup(build) {
    if (!build.initialOptions.sourcemap) return;
    const source = readFileSync(path.join(__dirname, 'mapped-stack-traces.js'), 'utf8');
    const { code } = build.esbuild.transformSync(source, {
      loader: 'js',
      minify: true,
      target: build.initialOptions.target,
    });
    const banner = build.initialOptions.banner ?? {};
    build.initialOptions.banner = { ...banner, js: banner.js ? `${code.trim()}\n${banner.js}` : code.trim() };
  },
};

/** Rewrites a source map in place without the segments whose source is under node_modules. */
function trimMap(file) {
  const map = JSON.parse(readFileSync(file, 'utf8'));
  const keepSource = map.sources.map((s) => !s.split(/[\\/]/).includes('node_modules'));
  const sourceIndex = new Map();
  const nameIndex = new Map();
  const index = (table, i) => {
    if (!table.has(i)) table.set(i, table.size);
    return table.get(i);
  };
  const lines = decode(map.mappings).map((line) => {
    const out = [];
    let mapped = false;
    for (const seg of line) {
      if (seg.length > 1 && keepSource[seg[1]]) {
        const kept = [seg[0], index(sourceIndex, seg[1]), seg[2], seg[3]];
        if (seg.length === 5) kept.push(index(nameIndex, seg[4]));
        out.push(kept);
        mapped = true;
      } else if (mapped) {
        // A segment of one field (a column, no source) ends the mapped run: without it, a library's code further on
        // the same line would be looked up as the project's segment before it.
        out.push([seg[0]]);
        mapped = false;
      }
    }
    return out;
  });
  const pick = (table, values) => [...table.keys()].map((i) => values[i]);
  const trimmed = {
    ...map,
    sources: pick(sourceIndex, map.sources),
    names: pick(nameIndex, map.names),
    mappings: encode(lines),
  };
  if (map.sourcesContent) trimmed.sourcesContent = pick(sourceIndex, map.sourcesContent);
  writeFileSync(file, JSON.stringify(trimmed));
}

module.exports = [
  zodAsNamespace,
  sideEffectFreeLibraries,
  sdkSchemasTreeShaken,
  separateFiles,
  projectSourcesOnly,
  mappedStackTraces,
];
module.exports.trimMap = trimMap;
module.exports.withConstantKeys = withConstantKeys;
