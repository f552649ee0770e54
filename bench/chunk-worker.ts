import { parentPort, workerData } from 'node:worker_threads';
import type { RunConfig } from '../shared/config/run-config';
import type { ChunkPlan, S3ObjectRef } from '../shared/messages/pipeline';
import { transformChunkFiles } from '../shared/prep/chunk';
import { resolveRecordRules } from '../shared/prep/rules';
import { stageKeys } from '../shared/runs/keys';
import type { WorkerChunk } from './core';
import { fileArtifacts, fileDatasets } from './fs-stores';
import { threadCpuSeconds, timed } from './thread-cpu';

/** One transform "Lambda" of the parallel core benchmark: takes chunks from the main thread, one at a time. */
const { datasetsRoot, artifactsRoot, source, config, runId } = workerData as {
  datasetsRoot: string;
  artifactsRoot: string;
  source: S3ObjectRef;
  config: RunConfig;
  runId: string;
};
const datasets = fileDatasets(datasetsRoot);
const artifacts = fileArtifacts(artifactsRoot);
const rules = resolveRecordRules(config);
const keys = stageKeys(runId, 0);

parentPort!.on('message', async (chunk: ChunkPlan | null) => {
  if (!chunk) return process.exit(0);
  const t = await timed(() =>
    transformChunkFiles({ plan: chunk, source, rules, datasets, artifacts, keys, run: runId }),
  );
  const { value: outputs, ...timing } = t;
  const m: WorkerChunk = {
    result: { runId, stage: 0, index: chunk.index, ...outputs, doneAt: '' },
    timing,
    threadCpuSeconds: threadCpuSeconds(),
  };
  parentPort!.postMessage(m);
});
