import { buildMessage, type MessageOf } from '../../shared/messages/envelope';
import { ChunkTransformed, DatasetPrepared } from '../../shared/messages/pipeline';
import { publishMessage, type Publish } from '../../shared/aws/queues';
import type { Run } from '../../shared/runs/run';
import type { RunStore } from '../../shared/runs/store';
import type { ArtifactStore } from '../../shared/prep/ports';
import { resolveRecordRules } from '../../shared/prep/rules';
import { artifactKeys, splitRun } from '../../shared/prep/split';

export interface SplitDeps {
  runs: RunStore;
  publish: Publish;
  artifacts: ArtifactStore;
  submitQueueUrl: string;
  now: () => Date;
}

export type SplitResult =
  | { outcome: 'waiting'; done: number; total: number }
  | { outcome: 'skipped'; why: string }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'prepared'; manifestKey: string; republished?: boolean };

/**
 * On each finished chunk: when every chunk is recorded, exactly one delivery moves the run from `preparing` to
 * `splitting` and writes the split; then the run goes to `submitting` and submit is told. The split is deterministic,
 * so a redelivery that finds the run still `splitting` (the first one crashed), or any delivery once the split has
 * outlived its function's timeout, does it again and overwrites the same files; a first delivery that finds another
 * split under way stops. One that finds the run `submitting` tells submit again (submit is idempotent on the run).
 */
export async function splitOnChunk(
  msg: MessageOf<typeof ChunkTransformed>,
  deps: SplitDeps,
  delivery: { attempt: number } = { attempt: 1 },
): Promise<SplitResult> {
  const { runs, now } = deps;
  let run = await runs.get(msg.runId);
  if (!run) return { outcome: 'skipped', why: `run ${msg.runId} does not exist` };
  if (run.status === 'submitting') {
    await announce(run, artifactKeys(run.runId).manifest, msg.correlationId, deps);
    return { outcome: 'prepared', manifestKey: artifactKeys(run.runId).manifest, republished: true };
  }
  if (run.status !== 'preparing' && run.status !== 'splitting') return { outcome: 'skipped', why: `run ${msg.runId} is ${run.status}` };

  const chunks = await runs.listChunks(run.runId);
  const total = run.chunksTotal ?? msg.payload.total;
  if (chunks.length < total) return { outcome: 'waiting', done: chunks.length, total };

  if (run.status === 'preparing') {
    const won = await runs.transition(run.runId, 'preparing', 'splitting', {}, { type: 'split.started', detail: { chunks: total } });
    if (!won) return { outcome: 'skipped', why: 'another delivery started the split' };
    run = won;
  } else if (delivery.attempt <= 1 && now().getTime() - Date.parse(run.updatedAt) < SPLIT_LEASE_MS) {
    // Another delivery is splitting right now: doing it again alongside would only compete for the same files. If
    // that delivery crashes, its own message comes back (attempt > 1) and redoes the split.
    return { outcome: 'skipped', why: 'another delivery is splitting' };
  }

  const started = now().toISOString();
  const rules = resolveRecordRules(run.config);
  const result = await splitRun({
    runId: run.runId,
    source: run.source,
    config: run.config,
    chunks,
    store: deps.artifacts,
    input: run.stages.prepare?.inputs,
    warnings: rules.warnings,
    now,
  });
  const prepare = run.stages.prepare ?? { status: 'running', attempts: 1 };
  if (!result.ok) {
    await runs.transition(run.runId, 'splitting', 'failed', {
      counts: result.counts,
      warnings: result.warnings,
      failure: { stage: 'split', reason: result.failure, at: now().toISOString() },
      stages: { ...run.stages, prepare: { ...prepare, status: 'failed', endedAt: now().toISOString() } },
    }, { type: 'split.failed', detail: { reason: result.failure } });
    return { outcome: 'failed', reason: result.failure };
  }
  const o = result.manifest.outputs;
  const moved = await runs.transition(run.runId, 'splitting', 'submitting', {
    counts: result.counts,
    warnings: result.warnings,
    stages: {
      ...run.stages,
      prepare: {
        ...prepare,
        status: 'done',
        endedAt: now().toISOString(),
        outputs: {
          manifestKey: result.manifestKey,
          splitStartedAt: started,
          train: { key: o.train.key, records: o.train.records, sha256: o.train.sha256 },
          validation: { key: o.validation.key, records: o.validation.records, sha256: o.validation.sha256 },
          test: { key: o.test.key, records: o.test.records, sha256: o.test.sha256 },
          rejects: { key: o.rejects.key, records: o.rejects.records },
        },
      },
    },
  }, { type: 'split.done', detail: { ...result.sizes } });
  if (moved || (await runs.get(run.runId))?.status === 'submitting') await announce(run, result.manifestKey, msg.correlationId, deps);
  return { outcome: 'prepared', manifestKey: result.manifestKey };
}

/** The split function's timeout (serverless.yml): a split started longer ago than this has died with its Lambda. */
const SPLIT_LEASE_MS = 900_000;

async function announce(run: Run, manifestKey: string, correlationId: string, deps: SplitDeps) {
  const out = buildMessage(DatasetPrepared, run.runId, { manifestKey, stage: 0 }, correlationId, deps.now);
  await publishMessage(deps.publish, deps.submitQueueUrl, DatasetPrepared, out);
}
