import type { MessageOf } from '../../shared/messages/envelope';
import { ChunkRequested, ChunkTransformed, type S3ObjectRef } from '../../shared/messages/pipeline';
import type { Send } from '../../shared/messages/send';
import type { RunStore } from '../../shared/runs/store';
import { transformChunkFiles, type ChunkOutputs } from '../../shared/prep/chunk';
import { sourceName } from '../../shared/prep/source-name';
import { InputError } from '../../shared/prep/errors';
import type { ArtifactStore, DatasetStore } from '../../shared/prep/ports';
import { resolveRecordRules } from '../../shared/prep/rules';
import { stageConfig } from '../../shared/config/run-config';
import { stageKeys } from '../../shared/runs/keys';
import { currentStage, failRun } from '../../shared/runs/record';
import type { Run } from '../../shared/runs/run';

export interface TransformDeps {
  runs: RunStore;
  send: Send;
  datasets: DatasetStore;
  artifacts: ArtifactStore;
  now: () => Date;
}

/**
 * Ingest publishes chunks before it moves the run to `preparing`: a chunk that arrives first is retried, not dropped.
 */
export class RunNotReadyError extends Error {
  override name = 'RunNotReadyError';
}

export type TransformResult =
  { outcome: 'skipped'; why: string } | { outcome: 'done'; recorded: boolean } | { outcome: 'failed'; reason: string };

/**
 * Transforms one chunk: streams its records through the template and filters (the stage's configuration) into
 * runs/<runId>/stages/<n>/chunks/<index>/kept.jsonl, meta.jsonl and rejects.jsonl, records the chunk's counts once,
 * and tells split.
 * A redelivered chunk already recorded is not redone (its outputs are there); split is told again, which is harmless.
 */
export async function transformChunk(
  msg: MessageOf<typeof ChunkRequested>,
  deps: TransformDeps,
): Promise<TransformResult> {
  const { runs, artifacts } = deps;
  const { chunk, source } = msg.payload;
  const stage = msg.payload.stage;
  // Whether this chunk is recorded already (a redelivery) is asked while the run is read.
  const [run, already] = await Promise.all([runs.get(msg.runId), runs.hasChunk(msg.runId, stage, chunk.index)]);
  if (!run) return { outcome: 'skipped', why: `run ${msg.runId} does not exist` };
  if (run.status === 'requested')
    throw new RunNotReadyError(`run ${msg.runId} is still being planned; chunk ${chunk.index} will be retried`);
  if (run.status !== 'preparing') return { outcome: 'skipped', why: `run ${msg.runId} is ${run.status}` };
  if (stage !== currentStage(run))
    return { outcome: 'skipped', why: `chunk of stage ${stage}; run ${msg.runId} is at stage ${currentStage(run)}` };

  const keys = stageKeys(msg.runId, stage);
  let recorded = false;
  if (!already) {
    const rules = resolveRecordRules(stageConfig(run.config, stage));
    let outputs: ChunkOutputs;
    try {
      outputs = await transformChunkFiles({
        plan: chunk,
        source,
        rules,
        datasets: deps.datasets,
        artifacts,
        keys,
        run: `${msg.runId}#${stage}`,
      });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return failOnInput(run, stage, chunk.index, source, err, deps);
    }
    recorded = await runs.putChunk({
      runId: msg.runId,
      stage,
      index: chunk.index,
      ...outputs,
      doneAt: deps.now().toISOString(),
    });
  }
  await deps.send(
    ChunkTransformed,
    msg.runId,
    { chunkIndex: chunk.index, total: chunk.total, stage },
    { correlationId: msg.correlationId },
  );
  return { outcome: 'done', recorded };
}

/**
 * A broken file found in a chunk (bytes that are not UTF-8, in a chunk ingest cut without reading): the run fails,
 * saying what and where, as ingest says it for a file it reads whole. The other chunks then find the run failed and
 * stop; a redelivery of this one finds it failed too.
 */
async function failOnInput(
  run: Run,
  stage: number,
  chunk: number,
  source: S3ObjectRef,
  err: InputError,
  deps: TransformDeps,
): Promise<TransformResult> {
  const reason = `${stage > 0 ? `stage ${stage}: ` : ''}${sourceName(source)}: ${err.message}`;
  const { offset: _offset, ...location } = err.location;
  await failRun(
    deps.runs,
    run,
    'preparing',
    {
      stage: 'transform',
      reason,
      hint: err.hint,
      record: 'prepare',
      location: { ...location, file: sourceName(source) },
    },
    deps.now(),
    { chunk },
  );
  return { outcome: 'failed', reason };
}
