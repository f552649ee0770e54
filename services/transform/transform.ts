import { buildMessage, type MessageOf } from '../../shared/messages/envelope';
import { ChunkRequested, ChunkTransformed } from '../../shared/messages/pipeline';
import { publishMessage, type Publish } from '../../shared/aws/queues';
import type { RunStore } from '../../shared/runs/store';
import { processChunk } from '../../shared/prep/chunk';
import { LineWriter } from '../../shared/prep/lines';
import type { ArtifactStore, DatasetStore } from '../../shared/prep/ports';
import { resolveRecordRules } from '../../shared/prep/rules';
import { artifactKeys } from '../../shared/prep/split';

export interface TransformDeps {
  runs: RunStore;
  publish: Publish;
  datasets: DatasetStore;
  artifacts: ArtifactStore;
  splitQueueUrl: string;
  now: () => Date;
}

/** Ingest publishes chunks before it moves the run to `preparing`: a chunk that arrives first is retried, not dropped. */
export class RunNotReadyError extends Error {
  override name = 'RunNotReadyError';
}

export type TransformResult = { outcome: 'skipped'; why: string } | { outcome: 'done'; recorded: boolean };

/**
 * Transforms one chunk: streams its records through the template and filters into
 * runs/<runId>/chunks/<index>/kept.jsonl and rejects.jsonl, records the chunk's counts once, and tells split.
 * A redelivered chunk already recorded is not redone (its outputs are there); split is told again, which is harmless.
 */
export async function transformChunk(msg: MessageOf<typeof ChunkRequested>, deps: TransformDeps): Promise<TransformResult> {
  const { runs, artifacts } = deps;
  const { chunk, source } = msg.payload;
  const run = await runs.get(msg.runId);
  if (!run) return { outcome: 'skipped', why: `run ${msg.runId} does not exist` };
  if (run.status === 'requested') throw new RunNotReadyError(`run ${msg.runId} is still being planned; chunk ${chunk.index} will be retried`);
  if (run.status !== 'preparing') return { outcome: 'skipped', why: `run ${msg.runId} is ${run.status}` };

  const keys = artifactKeys(msg.runId);
  let recorded = false;
  const already = (await runs.listChunks(msg.runId)).some((c) => c.index === chunk.index);
  if (!already) {
    const open = (key: string) => {
      const t = artifacts.write(key, 'application/x-ndjson');
      return new LineWriter(key, t.stream, t.done);
    };
    const kept = open(keys.chunkKept(chunk.index));
    const rejects = open(keys.chunkRejects(chunk.index));
    const counts = await processChunk({ plan: chunk, source, rules: resolveRecordRules(run.config), datasets: deps.datasets, kept, rejects });
    await kept.close();
    await rejects.close();
    recorded = await runs.putChunk({
      runId: msg.runId,
      index: chunk.index,
      counts,
      keptKey: kept.key,
      rejectsKey: rejects.key,
      doneAt: deps.now().toISOString(),
    });
  }
  const out = buildMessage(ChunkTransformed, msg.runId, { chunkIndex: chunk.index, total: chunk.total }, msg.correlationId, deps.now);
  await publishMessage(deps.publish, deps.splitQueueUrl, ChunkTransformed, out);
  return { outcome: 'done', recorded };
}
