import path from 'node:path';
import { Worker } from 'node:worker_threads';
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
  // This thread transforms chunks too, taking them from the same queue as the workers (workers - 1 of them): a
  // thread of its own would sit idle while they work, and one worker fewer is one runtime's memory less.
  const transformHere = async () => {
    for (let chunk = queue.shift(); chunk; chunk = queue.shift()) {
      const outputs = await transformChunkFiles({ plan: chunk, source, rules, datasets, artifacts, keys, run: runId });
      chunks.push({ runId, stage: 0, index: chunk.index, ...outputs, doneAt: '' });
    }
  };
  await Promise.all([
    transformHere(),
    ...(workers > 1
      ? [
          inWorkers(queue, chunks, workers - 1, opts.workerScript ?? path.join(__dirname, 'chunk-worker.ts'), {
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
  return { plan, result, workers, phases };
}

const secs = (ms: number) => Math.round(ms) / 1000;

async function inWorkers(
  queue: ChunkPlan[],
  results: ChunkResult[],
  n: number,
  script: string,
  data: Record<string, unknown>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, () => {
      const w = new Worker(script, { workerData: data });
      return new Promise<void>((resolve, reject) => {
        const next = () => w.postMessage(queue.shift() ?? null);
        w.on('message', (r: ChunkResult) => {
          results.push(r);
          next();
        });
        w.on('error', reject);
        w.on('exit', () => resolve());
        next();
      });
    }),
  );
}
