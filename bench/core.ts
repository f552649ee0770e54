import path from 'node:path';
import type { RunConfig } from '../shared/config/run-config';
import type { ChunkPlan, S3ObjectRef } from '../shared/messages/pipeline';
import type { ChunkResult } from '../shared/runs/run';
import { transformChunkFiles } from '../shared/prep/chunk';
import { resolveRecordRules } from '../shared/prep/rules';
import { splitRun } from '../shared/prep/write-sets';
import { ingestPlanOf } from '../shared/prep/plan';
import { stageKeys } from '../shared/runs/keys';
import { planInput } from '../services/ingest/ingest';
import { fileArtifacts, fileDatasets } from './fs-stores';
import { timed, type ChunkTiming } from './thread-cpu';

/** What a chunk worker (chunk-worker.ts) posts for each chunk: its result, its timing, and its thread's CPU so far. */
export interface WorkerChunk {
  result: ChunkResult;
  timing: { at: number; seconds: number; cpuSeconds?: number };
  threadCpuSeconds?: number;
}

/**
 * The data preparation core, without queues or a run store: plan (the whole input is read and checked once), transform
 * every chunk, split: what the three Lambdas do, on local files. With `workers` > 1 the chunks are transformed in this
 * thread and `workers` - 1 worker threads, as Lambda runs them in parallel.
 */
export async function prepareCore(opts: {
  source: S3ObjectRef;
  config: RunConfig;
  datasetsRoot: string;
  artifactsRoot: string;
  workers?: number;
  workerScript?: string;
}) {
  const { source, config } = opts;
  const runId = 'bench';
  const datasets = fileDatasets(opts.datasetsRoot);
  const artifacts = fileArtifacts(opts.artifactsRoot);
  const t0 = performance.now();
  const plan = await planInput(source, config, datasets);
  const t1 = performance.now();
  const rules = resolveRecordRules(config);
  const workers = Math.min(opts.workers ?? 1, plan.chunks.length);
  const keys = stageKeys(runId, 0);
  const queue = [...plan.chunks];
  const chunks: ChunkResult[] = [];
  // Each chunk's thread, start, time and CPU, and each worker's CPU up to its last chunk (start-up included).
  const started = performance.timeOrigin + performance.now();
  const timings: ChunkTiming[] = [];
  const workerCpuSeconds: number[] = [];
  const timing = (index: number, thread: number, t: WorkerChunk['timing']) =>
    timings.push({
      index,
      thread,
      start: round3((t.at - started) / 1000),
      seconds: round3(t.seconds),
      ...(t.cpuSeconds !== undefined ? { cpuSeconds: round3(t.cpuSeconds) } : {}),
    });
  // This thread transforms chunks too, taking them from the same queue as the workers (workers - 1 of them): a
  // thread of its own would sit idle while they work, and one worker fewer is one runtime's memory less.
  const transformHere = async () => {
    for (let chunk = queue.shift(); chunk; chunk = queue.shift()) {
      const plan = chunk;
      const t = await timed(() => transformChunkFiles({ plan, source, rules, datasets, artifacts, keys, run: runId }));
      chunks.push({ runId, stage: 0, index: chunk.index, ...t.value, doneAt: '' });
      timing(chunk.index, 0, t);
    }
  };
  const onWorkerChunk = (worker: number, m: WorkerChunk) => {
    chunks.push(m.result);
    timing(m.result.index, worker, m.timing);
    if (m.threadCpuSeconds !== undefined) workerCpuSeconds[worker - 1] = round3(m.threadCpuSeconds);
  };
  await Promise.all([
    transformHere(),
    ...(workers > 1
      ? [
          inWorkers(queue, onWorkerChunk, workers - 1, opts.workerScript ?? path.join(__dirname, 'chunk-worker.ts'), {
            ...opts,
            runId,
          }),
        ]
      : []),
  ]);
  const t2 = performance.now();
  const result = await splitRun({
    runId,
    keys: stageKeys(runId, 0),
    source,
    config,
    chunks,
    store: artifacts,
    plan: ingestPlanOf(plan),
    warnings: rules.warnings,
  });
  const phases = { plan: secs(t1 - t0), transform: secs(t2 - t1), split: secs(performance.now() - t2) };
  timings.sort((a, b) => a.start - b.start);
  return { plan, result, workers, phases, chunkTimings: timings, workerCpuSeconds };
}

const secs = (ms: number) => Math.round(ms) / 1000;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

async function inWorkers(
  queue: ChunkPlan[],
  onChunk: (worker: number, m: WorkerChunk) => void,
  n: number,
  script: string,
  data: Record<string, unknown>,
): Promise<void> {
  // Loaded only for a run with workers: one thread's run loads what a deployed transform or split loads.
  const { Worker } = await import('node:worker_threads');
  await Promise.all(
    Array.from({ length: n }, (_, k) => {
      const w = new Worker(script, { workerData: data });
      return new Promise<void>((resolve, reject) => {
        const next = () => w.postMessage(queue.shift() ?? null);
        w.on('message', (m: WorkerChunk) => {
          onChunk(k + 1, m);
          next();
        });
        w.on('error', reject);
        w.on('exit', () => resolve());
        next();
      });
    }),
  );
}
