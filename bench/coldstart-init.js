// One cold start of a function, in a fresh process: what Lambda's init phase runs for it. Imports the function's
// bundle (the handler's module and everything it imports at the top), then builds its dependencies with its
// composition root (services/<name>/deps.ts), as its first invocation does. Plain JavaScript, so no loader of
// TypeScript sits between the process and the bundle. Prints one JSON line: the milliseconds of each part.
'use strict';
const { performance } = require('node:perf_hooks');

const bundle = process.argv[2];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const mod = require(bundle);
const t1 = performance.now();
const deps = mod.__deps ?? {};
// deps.ts exports either its lazy getter (getDeps(): built once per environment) or its builder (buildDeps(env)).
const build = deps.getDeps ?? deps.buildDeps;
if (typeof mod.handler !== 'function') throw new Error(`${bundle} exports no handler`);
if (typeof build !== 'function')
  throw new Error(`${bundle}: the function's deps.ts exports neither getDeps nor buildDeps`);
build(process.env);
const t2 = performance.now();
const cpu = process.cpuUsage(cpu0);
// CPU time beside the wall time: on a shared machine the wall time also counts the time other processes ran.
process.stdout.write(
  JSON.stringify({ importMs: t1 - t0, depsMs: t2 - t1, initMs: t2 - t0, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n',
);
