import { tooFewRecordsHint } from '../../shared/runs/hints';
import type { MessageOf } from '../../shared/messages/envelope';
import { ChunkTransformed, DatasetPrepared } from '../../shared/messages/pipeline';
import type { Send } from '../../shared/messages/send';
import type { CountFigure } from '../../shared/lambda/metrics';
import type { RecordedPart, Run } from '../../shared/runs/run';
import type { RunStore } from '../../shared/runs/store';
import type { ArtifactStore } from '../../shared/prep/ports';
import { resolveRecordRules } from '../../shared/prep/rules';
import { splitRun } from '../../shared/prep/write-sets';
import { PartManifest, type PreparedFile } from '../../shared/artifacts/manifest';
import { writeJsonArtifact } from '../../shared/artifacts/parse';
import { HashingLineWriter, readLines } from '../../shared/prep/lines';
import { sourceName } from '../../shared/prep/source-name';
import { stageConfig } from '../../shared/config/run-config';
import { stageKeys } from '../../shared/runs/keys';
import { currentPrepare, currentStage, withPrepare } from '../../shared/runs/record';
import { planParts, stageSource } from '../../shared/runs/stages';
import {
  recordLimitHint,
  stageRecordLimitErrors,
  type DeploymentRecordQuotas,
} from '../../shared/orchestration/record-limits';

export interface SplitDeps {
  runs: RunStore;
  send: Send;
  /** Counts the records prepared (a CloudWatch metric in AWS). */
  count: CountFigure;
  artifacts: ArtifactStore;
  now: () => Date;
  /** Record quotas the deployment declares (BTP_RECORD_QUOTAS), for the stage's record limits. */
  recordQuotas?: DeploymentRecordQuotas;
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
  const stage = msg.payload.stage;
  // Most deliveries need both (to count the chunks done), so the chunks are listed while the run is read.
  const [found, chunks] = await Promise.all([runs.get(msg.runId), runs.listChunks(msg.runId, stage)]);
  let run = found;
  if (!run) return { outcome: 'skipped', why: `run ${msg.runId} does not exist` };
  if (stage !== currentStage(run))
    return { outcome: 'skipped', why: `chunk of stage ${stage}; run ${msg.runId} is at stage ${currentStage(run)}` };
  const manifestKey = stageKeys(run.runId, stage).manifest;
  // A chained run prepares each stage through the same statuses: a delivery that read the run at this stage writes
  // nothing once the run is at another (it was held up while the stage was split, trained and the next one started).
  const atAnotherStage = (current: Run) => currentStage(current) !== stage;
  if (run.status === 'submitting') {
    await announce(run, manifestKey, msg.correlationId, deps);
    return { outcome: 'prepared', manifestKey, republished: true };
  }
  if (run.status !== 'preparing' && run.status !== 'splitting')
    return { outcome: 'skipped', why: `run ${msg.runId} is ${run.status}` };

  const total = currentPrepare(run)?.plan?.chunks ?? msg.payload.total;
  if (chunks.length < total) return { outcome: 'waiting', done: chunks.length, total };

  if (run.status === 'preparing') {
    const won = await runs.transition(
      run.runId,
      'preparing',
      'splitting',
      {},
      { type: 'split.started', detail: { chunks: total } },
      { seen: run, unless: atAnotherStage },
    );
    if (!won) return { outcome: 'skipped', why: 'another delivery started the split' };
    run = won;
  } else if (delivery.attempt <= 1 && now().getTime() - Date.parse(run.updatedAt) < SPLIT_LEASE_MS) {
    // Another delivery is splitting right now: doing it again alongside would only compete for the same files. If
    // that delivery crashes, its own message comes back (attempt > 1) and redoes the split.
    return { outcome: 'skipped', why: 'another delivery is splitting' };
  }

  const started = now().toISOString();
  const config = stageConfig(run.config, stage);
  const rules = resolveRecordRules(config);
  const plan = currentPrepare(run)?.plan;
  // Ingest records the plan before it queues a chunk, so a run without one was not made by this pipeline.
  if (!plan) throw new Error(`run ${run.runId} has no ingest plan for stage ${stage}: nothing to split`);
  const result = await splitRun({
    runId: run.runId,
    keys: stageKeys(run.runId, stage),
    source: stageSource(run, stage),
    config,
    chunks,
    store: deps.artifacts,
    plan,
    warnings: rules.warnings,
    now,
  });
  // The run's warnings carry every stage's, a later stage's prefixed with its number. Each write below builds the
  // warnings and the stage's record from the run as it finds it (RunPatch), not from the copy read before the split.
  const stageWarnings = result.warnings.map((w) => (stage > 0 ? `stage ${stage}: ${w}` : w));
  const warnings = (current: Run) => [...(current.warnings ?? []), ...stageWarnings];
  if (!result.ok) {
    await runs.transition(
      run.runId,
      'splitting',
      'failed',
      (current) => ({
        warnings: warnings(current),
        failure: {
          stage: 'split',
          reason: stage === 0 ? result.failure : `stage ${stage}: ${result.failure}`,
          // The input as a whole is short of records: the file is where to look.
          location: { file: sourceName(stageSource(run, stage)) },
          hint: tooFewRecordsHint(result.counts, config, run.config.stages ? `stages[${stage}].` : ''),
          at: now().toISOString(),
        },
        stages: withPrepare(current, stage, { status: 'failed', endedAt: now().toISOString(), counts: result.counts }),
      }),
      { type: 'split.failed', detail: { reason: result.failure, stage } },
      { seen: run, unless: atAnotherStage },
    );
    return { outcome: 'failed', reason: result.failure };
  }
  const o = result.manifest.outputs;
  // The counts are known now: a job they would take over a record quota fails the run here, with the limit and the
  // count, not at submit's preflight or at Bedrock.
  const prefix = run.config.stages ? `stages[${stage}].` : '';
  const limits = stageRecordLimitErrors(
    run.config,
    stage,
    { train: o.train.records, validation: o.validation.records },
    deps.recordQuotas,
  );
  if (limits.length > 0) {
    const reason = `${stage > 0 ? `stage ${stage}: ` : ''}${limits.join('; ')}`;
    await runs.transition(
      run.runId,
      'splitting',
      'failed',
      (current) => ({
        warnings: warnings(current),
        failure: { stage: 'split', reason, hint: recordLimitHint(limits, prefix), at: now().toISOString() },
        stages: withPrepare(current, stage, { status: 'failed', endedAt: now().toISOString(), counts: result.counts }),
      }),
      { type: 'split.failed', detail: { reason, stage } },
      { seen: run, unless: atAnotherStage },
    );
    return { outcome: 'failed', reason };
  }
  const parts = await writeParts(run.runId, stage, result, run.config.stages?.[stage]?.maxRecordsPerJob, deps);
  const file = (f: { key: string; records: number; sha256?: string }) => ({
    key: f.key,
    records: f.records,
    ...(f.sha256 ? { sha256: f.sha256 } : {}),
  });
  const moved = await runs.transition(
    run.runId,
    'splitting',
    'submitting',
    (current) => ({
      warnings: warnings(current),
      stages: withPrepare(current, stage, {
        status: 'done',
        endedAt: now().toISOString(),
        counts: result.counts,
        split: {
          startedAt: started,
          manifestKey: result.manifestKey,
          train: file(o.train),
          validation: file(o.validation),
          test: file(o.test),
          rejects: file(o.rejects),
          ...(parts ? { parts } : {}),
        },
      }),
    }),
    {
      type: 'split.done',
      detail: { ...result.sizes, ...(stage > 0 ? { stage } : {}), ...(parts ? { parts: parts.length } : {}) },
    },
    { seen: run, unless: atAnotherStage },
  );
  // Counted by the delivery that moved the run on, so a redone split is not counted twice.
  if (moved) deps.count('RecordsPrepared', o.train.records + o.validation.records + o.test.records);
  if (moved || (await runs.get(run.runId))?.status === 'submitting')
    await announce(run, result.manifestKey, msg.correlationId, deps);
  return { outcome: 'prepared', manifestKey: result.manifestKey };
}

/** The split function's timeout (serverless.yml): a split started longer ago than this has died with its Lambda. */
const SPLIT_LEASE_MS = 900_000;

/**
 * A stage with `maxRecordsPerJob` under its training set becomes sequential jobs: each part's lines of train.jsonl
 * go to prepared/parts/<k>.jsonl, described by parts/<k>.manifest.json (with the stage's validation set, so each job
 * reports a validation loss). Deterministic, so a redone split writes the same files.
 */
async function writeParts(
  runId: string,
  stage: number,
  split: {
    manifestKey: string;
    manifest: { outputs: { train: PreparedFile; validation: PreparedFile } };
    trainTokens: number[];
  },
  maxRecordsPerJob: number | undefined,
  { artifacts }: SplitDeps,
): Promise<RecordedPart[] | undefined> {
  const { train, validation } = split.manifest.outputs;
  const plan = planParts(train.records, maxRecordsPerJob);
  if (plan.length < 2) return undefined;
  const keys = stageKeys(runId, stage);
  const parts: RecordedPart[] = [];
  const lines = readLines(await artifacts.read(train.key))[Symbol.asyncIterator]();
  for (const p of plan) {
    const trainKey = keys.partTrain(p.part);
    const t = artifacts.write(trainKey, 'application/x-ndjson');
    const writer = new HashingLineWriter(trainKey, t.stream, t.done);
    for (let i = p.start; i < p.end; i++) {
      const next = await lines.next();
      if (next.done) throw new Error(`${train.key} has fewer lines than its ${train.records} records`);
      await writer.write(next.value);
    }
    const written = await writer.close();
    const tokens = split.trainTokens.slice(p.start, p.end);
    const manifestKey = keys.partManifest(p.part);
    const manifest: PartManifest = {
      schemaVersion: 1,
      kind: 'part',
      runId,
      stage,
      part: p.part,
      parts: plan.length,
      stageManifestKey: split.manifestKey,
      outputs: {
        train: {
          ...written,
          tokens: tokens.reduce((s, n) => s + n, 0),
          maxRecordTokens: tokens.reduce((m, n) => Math.max(m, n), 0),
        },
        validation,
      },
    };
    await artifacts.put(manifestKey, writeJsonArtifact(PartManifest, manifest, manifestKey), 'application/json');
    parts.push({ part: p.part, manifestKey, trainKey, records: written.records });
  }
  while (!(await lines.next()).done); // read to the end, so the S3 read finishes instead of being cut off
  return parts;
}

async function announce(run: Run, manifestKey: string, correlationId: string, deps: SplitDeps) {
  await deps.send(DatasetPrepared, run.runId, { manifestKey, stage: currentStage(run) }, { correlationId });
}
