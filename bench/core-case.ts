/**
 * The core's benchmark case: `core-case <file> [workers]` plans, transforms and splits a local file (bench/core.ts),
 * the chunks in `workers` threads (this one and `workers` - 1 workers). bench/run.ts runs it as a bundle
 * (bench/bundle.ts), as the functions are deployed; `bench/case.ts core <file> [workers]` runs it from the sources.
 * Prints one JSON line.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveRunConfig } from '../shared/config/run-config';
import { printCase } from './case-output';
import { prepareCore } from './core';
import { threadCpuSeconds } from './thread-cpu';

export async function core(file: string, workersArg: string | undefined) {
  // The outputs go to BENCH_CORE_OUT when bench/run.ts names it, which removes them after the process (as it does the
  // peers' outputs: deleting them is no part of preparing the data); otherwise to a directory removed here.
  const out = process.env.BENCH_CORE_OUT;
  if (out) mkdirSync(out, { recursive: true });
  const root = mkdtempSync(path.join(out ?? tmpdir(), 'btp-bench-core-'));
  try {
    const source = { bucket: path.basename(path.dirname(file)), key: path.basename(file), size: statSync(file).size };
    const workers = workersArg ? Number(workersArg) : 1;
    // The worker's bundle, built beforehand by bench/run.ts (BENCH_CHUNK_WORKER), or here when run from the sources.
    const workerScript =
      workers > 1
        ? (process.env.BENCH_CHUNK_WORKER ?? (await (await import('./bundle')).bundle('chunk-worker', root)))
        : undefined;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const {
      plan,
      result,
      workers: used,
      phases,
      chunkTimings,
      workerCpuSeconds,
    } = await prepareCore({
      workerScript,
      source,
      config: resolveRunConfig(),
      datasetsRoot: path.dirname(path.dirname(file)),
      artifactsRoot: root,
      workers,
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = Math.round((cpu.user + cpu.system) / 1e4) / 100;
    // Where the process's CPU went so far (start-up included): this thread, each worker up to its last chunk, and the
    // rest, the runtime's own threads (compilers, garbage collection, file I/O). Linux only (bench/thread-cpu.ts).
    const main = threadCpuSeconds();
    const all = process.cpuUsage();
    const threads =
      main === undefined
        ? undefined
        : {
            mainCpuSeconds: main,
            workerCpuSeconds,
            otherCpuSeconds: round2((all.user + all.system) / 1e6 - main - workerCpuSeconds.reduce((a, b) => a + b, 0)),
          };
    return {
      records: result.counts.input,
      chunks: plan.chunks.length,
      workers: used,
      seconds,
      cpuSeconds,
      phases,
      ...(threads ? { threads } : {}),
      chunkTimings,
      counts: result.counts,
    };
  } finally {
    if (!out) rmSync(root, { recursive: true, force: true });
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

if (require.main === module) {
  const [file, workers] = process.argv.slice(2) as [string, string | undefined];
  printCase(statSync(file).size, () => core(file, workers));
}
