// Stack traces mapped back to the project's TypeScript, read from a bundle's source map only when a stack is first
// formatted. scripts/esbuild-plugins.js (mappedStackTraces) puts this file, minified, at the top of each function's
// bundle; the map beside the bundle (`<bundle>.js.map`) carries no comment naming it, so Node's own source map support
// (--enable-source-maps) does not read it. Node's support reads a bundle's map and measures every line of the bundle
// as the bundle is compiled, at each cold start (13-30 ms here), though most starts format no stack.
//
// The frames are written as Node 22 (Lambda's runtime) writes them with --enable-source-maps (its
// lib/internal/source_map/prepare_stack_trace.js): a frame whose position maps to a source is
// `[async |new ][<type>.]<name> (<source>:<line>:<column>)`, the name being the source's name of the enclosing function
// when the map has one, else the name at the caller's position in the same file, else V8's; any other frame as V8
// writes it. The map is
// read through Node's public SourceMap class (https://nodejs.org/api/module.html#class-modulesourcemap). The first
// line is `String(error)`, or `<name> [<code>]: <message>` for Node's own errors (a code `ERR_...`), as Node's is.
(() => {
  'use strict'; // within the function: the bundle's own code after it keeps its mode
  const maps = new Map();
  const mapOf = (file) => {
    if (typeof file !== 'string' || !file.endsWith('.js') || !file.startsWith('/')) return undefined;
    if (!maps.has(file)) {
      let map;
      try {
        const path = require('node:path');
        const payload = JSON.parse(require('node:fs').readFileSync(`${file}.map`, 'utf8'));
        const dir = path.dirname(file);
        payload.sources = payload.sources.map((source) => path.resolve(dir, `${payload.sourceRoot ?? ''}${source}`));
        map = new (require('node:module').SourceMap)(payload);
      } catch {
        map = undefined; // no map beside this file (a library's), or not one Node can read
      }
      maps.set(file, map);
    }
    return maps.get(file);
  };
  const frame = (trace, i) => {
    const site = trace[i];
    const file = site.getFileName() ?? site.getEvalOrigin();
    const map = mapOf(file);
    if (!map) return String(site);
    // Source map lines and columns count from 0, a stack's from 1.
    const entry = map.findEntry(site.getLineNumber() - 1, site.getColumnNumber() - 1);
    if (!entry.originalSource || entry.originalLine === undefined || entry.originalColumn === undefined) {
      return String(site);
    }
    // The source's name: the enclosing function's, else the one mapped at the next frame's call in the same file.
    let name = map.findEntry(site.getEnclosingLineNumber() - 1, site.getEnclosingColumnNumber() - 1).name;
    const next = trace[i + 1];
    if (!name && next && next.getFileName() === site.getFileName()) {
      name = map.findEntry(next.getLineNumber() - 1, next.getColumnNumber() - 1).name;
    }
    const fnName = site.getFunctionName() ?? site.getMethodName();
    const typeName = site.getTypeName();
    const prefix = site.isAsync() ? 'async ' : site.isConstructor() ? 'new ' : '';
    const typePrefix = typeName !== null && typeName !== 'global' ? `${typeName}.` : '';
    const position = `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    return `${prefix}${typePrefix}${name || fnName || '<anonymous>'} (${position})`;
  };
  Error.prepareStackTrace = (error, trace) => {
    let head;
    try {
      head =
        error instanceof Error && typeof error.code === 'string' && /^ERR_[A-Z0-9_]+$/.test(error.code)
          ? `${error.name} [${error.code}]: ${error.message}`
          : Error.prototype.toString.call(error);
    } catch {
      head = '';
    }
    if (trace.length === 0) return head;
    const frames = trace.map((_, i) => {
      try {
        return frame(trace, i);
      } catch {
        return String(trace[i]);
      }
    });
    return `${head}\n    at ${frames.join('\n    at ')}`;
  };
})();
