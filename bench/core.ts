import type { RunConfig } from '../shared/config/run-config';
import type { S3ObjectRef } from '../shared/messages/pipeline';
import type { ChunkResult } from '../shared/runs/run';
import { processChunk } from '../shared/prep/chunk';
import { LineWriter } from '../shared/prep/lines';
import type { ArtifactStore, DatasetStore } from '../shared/prep/ports';
import { resolveRecordRules } from '../shared/prep/rules';
import { artifactKeys, splitRun } from '../shared/prep/split';
import { planInput } from '../services/ingest/ingest';

/**
 * The data preparation core, without queues or a run store: plan (the whole input is read and checked once), transform
 * every chunk, split. What each Lambda does, in one process.
 */
export async function prepareCore(source: S3ObjectRef, config: RunConfig, datasets: DatasetStore, artifacts: ArtifactStore, runId = 'bench') {
  const plan = await planInput(source, config, datasets);
  const rules = resolveRecordRules(config);
  const keys = artifactKeys(runId);
  const open = (key: string) => {
    const t = artifacts.write(key, 'application/x-ndjson');
    return new LineWriter(key, t.stream, t.done);
  };
  const chunks: ChunkResult[] = [];
  for (const chunk of plan.chunks) {
    const kept = open(keys.chunkKept(chunk.index));
    const rejects = open(keys.chunkRejects(chunk.index));
    const counts = await processChunk({ plan: chunk, source, rules, datasets, kept, rejects });
    await kept.close();
    await rejects.close();
    chunks.push({ runId, index: chunk.index, counts, keptKey: kept.key, rejectsKey: rejects.key, doneAt: '' });
  }
  const result = await splitRun({ runId, source, config, chunks, store: artifacts, warnings: rules.warnings });
  return { plan, result };
}
