import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ChunkRequested, type S3ObjectRef } from '../../shared/messages/pipeline';
import type { Send } from '../../shared/messages/send';
import { buildMessage } from '../../shared/messages/envelope';
import { RunRejected } from '../../shared/messages/notifications';
import { requestAttributes, type Notify } from '../../shared/runs/notifying-run-store';
import { mapLimited } from '../../shared/aws/limited';
import { resolveRunConfig, stageConfig, stageCount, type RunConfig } from '../../shared/config/run-config';
import { checkPromptFile } from '../../shared/evaluation/prompt-file';
import {
  recordLimitHint,
  stageRecordLimitErrors,
  type DeploymentRecordQuotas,
} from '../../shared/orchestration/record-limits';
import { runBase } from '../../shared/runs/keys';
import { currentPrepare, currentStage, withPrepare } from '../../shared/runs/record';
import type { Run } from '../../shared/runs/run';
import type { CheckedPromptFile } from '../../shared/artifacts';
import { stageSource } from '../../shared/runs/stages';
import type { RunStore } from '../../shared/runs/store';
import { bufferAsAsync } from '../../shared/prep/chunk';
import { sourceName } from '../../shared/prep/source-name';
import { InputError } from '../../shared/prep/errors';
import { modelProblems, preflightHint } from '../../shared/orchestration/preflight';
import { ingestPlanOf, planJsonLinesByRanges, planParquet, planText, type Plan } from '../../shared/prep/plan';
import type { DatasetStore } from '../../shared/prep/ports';
import { resolveRecordRules } from '../../shared/prep/rules';
import { isDatasetKey, resolveLayers, runIdFor, SIDECAR_SUFFIX, stripQuotes } from '../../shared/prep/run-setup';
import { checkEncoding, isGzip, isParquet } from '../../shared/prep/source';
import type { IngestInput } from './s3-event';

export interface IngestDeps {
  runs: RunStore;
  send: Send;
  datasets: DatasetStore;
  artifactsBucket: string;
  /** The one bucket runs read datasets from (BTP_DATASETS_BUCKET); a request naming another is refused. */
  datasetsBucket?: string;
  now: () => Date;
  /** The notifications topic: a request that cannot start a run is announced there (run.rejected). */
  notify?: Notify;
  /** Record quotas the deployment declares (BTP_RECORD_QUOTAS), for the stages' record limits. */
  recordQuotas?: DeploymentRecordQuotas;
  /** The day the catalog's model lifecycle is read at (BTP_CATALOG_DATE); absent: today. */
  catalogDate?: string;
}

export type IngestResult =
  | { outcome: 'ignored'; why: string }
  | { outcome: 'rejected'; why: string; request: { runId: string; correlationId: string } }
  | { outcome: 'replayed'; runId: string }
  | { outcome: 'failed'; runId: string; reason: string }
  | { outcome: 'planned'; runId: string; chunks: number; stage?: number };

/**
 * Starts a run on a dataset object: resolves its configuration, records the run, checks and plans the input, queues
 * one transform per chunk, and moves the run to `preparing`. Idempotent: the run id derives from the object and the
 * configuration; a run found already past `requested` is a replay and nothing is done, a run found in `requested`
 * (a crash before it was planned) is planned and published again.
 *
 * A sidecar configuration must be uploaded before its dataset: the dataset's notification reads it, and a sidecar
 * uploaded later starts nothing.
 */
export async function ingest(input: IngestInput, deps: IngestDeps): Promise<IngestResult> {
  const { runs, datasets, now } = deps;
  if (input.kind === 'stage') return prepareStage(input.runId, input.stage, input.correlationId, deps);
  if (input.kind === 'upload' && !isDatasetKey(input.source.key))
    return { outcome: 'ignored', why: `${input.source.key} is not a dataset under datasets/` };
  if (input.kind === 'request') {
    const outside = outsideDatasets(input.source, deps.datasetsBucket);
    if (outside) {
      await rejectRequest(outside, input.request, input.source, deps);
      return { outcome: 'rejected', why: outside, request: input.request };
    }
  }
  // The configuration depends only on the key (its sidecar, its profile), so it is read while the object is looked up.
  const [info, resolved] = await Promise.all([
    datasets.head(input.source),
    resolveConfig(input.source, input.kind === 'request' ? input.config : undefined, datasets),
  ]);
  const request = input.kind === 'request' ? input.request : undefined;
  if (!info) {
    const why = `${sourceName(input.source)} does not exist`;
    // A request that names no object cannot start a run: its sender hears of it (run.rejected) and the message is
    // kept, with the reason, in the dead-letter queue. An upload's object deleted since is nothing to report.
    if (request) {
      await rejectRequest(why, request, input.source, deps);
      return { outcome: 'rejected', why, request };
    }
    return { outcome: 'ignored', why: `${sourceName(input.source)} no longer exists` };
  }
  const source: S3ObjectRef = {
    bucket: input.source.bucket,
    key: input.source.key,
    size: info.size,
    etag: stripQuotes(input.source.etag ?? info.etag),
    ...((input.source.versionId ?? info.versionId) ? { versionId: input.source.versionId ?? info.versionId } : {}),
  };

  const { config, configError, layers } = resolved;
  const runId = runIdFor(source, configError ? { invalid: layers } : config);
  const existing = await runs.get(runId);
  if (existing && existing.status !== 'requested' && !awaitingChunks(existing)) return { outcome: 'replayed', runId };
  // Not a replay: the input is checked and planned while the run is recorded (the plan needs only the object and the
  // configuration). Should another delivery record the run first and move it on, this plan is left unused.
  const relative = relativeSegments(source.key);
  const hostile = relative && `the dataset key "${source.key}" ${relative}`;
  const planning = configError || hostile ? undefined : settle(planFirstStage(source, config, datasets));
  // The run as last read or written, so the writes below need not read it first.
  let seen = existing;
  if (!existing) {
    const at = now().toISOString();
    const run: Run = {
      runId,
      status: 'requested',
      version: 1,
      createdAt: at,
      updatedAt: at,
      source,
      config,
      artifactsPrefix: `s3://${deps.artifactsBucket}/${runBase(runId)}`,
      stages: [{ prepare: { status: 'running', startedAt: at }, jobs: [] }],
      ...(request ? { request } : {}),
    };
    const created = await runs.create(run, {
      type: 'run.requested',
      detail: { trigger: input.kind, ...(request ? { request } : {}) },
    });
    seen = run;
    if (!created) {
      const raced = await runs.get(runId);
      if (!raced || (raced.status !== 'requested' && !awaitingChunks(raced))) return { outcome: 'replayed', runId };
      seen = raced;
    }
  }

  const fail = (reason: string, hint: string, location: InputError['location'] = {}) =>
    failRequested(seen!, reason, hint, location, deps);
  if (hostile) return fail(hostile, KEY_HINT);
  if (configError) return fail(configError, CONFIG_HINT);
  // A model Bedrock does not offer (end of life, or no such customization) fails the run now, before any data is read.
  const refused = modelProblems(config, deps.catalogDate ? new Date(deps.catalogDate) : now());
  if (refused) return fail(`preflight: ${refused}`, preflightHint([refused]));
  const limits = configRecordLimits(config, deps.recordQuotas);
  if (limits) return fail(limits.reason, limits.hint);
  // The prompt file is asked only once the model is trained: a bad line fails the run now, before any money is spent.
  const prompts = await checkPromptFile(config, source.bucket, datasets);
  if (prompts && 'problem' in prompts)
    return fail(prompts.problem.message, prompts.problem.hint, prompts.problem.location);

  const planOutcome = await planning!;
  if ('error' in planOutcome) {
    const err = planOutcome.error;
    if (err instanceof InputError) return fail(`${sourceName(source)}: ${err.message}`, err.hint, err.location);
    throw err;
  }
  return startPreparing(seen!, planOutcome.value, runId, deps, prompts?.checked);
}

/** Fails a run that ingest recorded but did not plan: its input or configuration cannot start a run. */
async function failRequested(
  seen: Run,
  reason: string,
  hint: string,
  location: InputError['location'],
  deps: IngestDeps,
): Promise<IngestResult> {
  const { runId, source } = seen;
  const at = deps.now().toISOString();
  await deps.runs.transition(
    runId,
    'requested',
    'failed',
    {
      failure: {
        stage: 'ingest',
        reason,
        hint,
        location: { file: sourceName(source), ...withoutOffset(location) },
        at,
      },
      stages: withPrepare(seen, 0, { status: 'failed', endedAt: at }),
    },
    { type: 'ingest.failed', detail: { reason } },
    { seen },
  );
  return { outcome: 'failed', runId, reason };
}

/**
 * Records a recorded run's first plan (the run moves to `preparing`), then queues its chunks and marks them queued.
 *
 * The plan is recorded before any chunk is queued, so no chunk reaches transform before its run is ready for it: a
 * chunk that did would wait out the transform queue's whole visibility timeout. A crash between the two leaves the
 * run `preparing` without `chunksQueued`; a redelivery plans and queues again (the plan is deterministic, and
 * transform does each chunk once).
 */
async function startPreparing(
  seen: Run,
  plan: Plan,
  correlationId: string,
  deps: IngestDeps,
  promptFile?: CheckedPromptFile,
): Promise<IngestResult> {
  const { runs, now } = deps;
  const { runId, source } = seen;
  const prepare = { status: 'running' as const, startedAt: now().toISOString(), plan: ingestPlanOf(plan) };
  const moved = await runs.transition(
    runId,
    'requested',
    'preparing',
    { stages: withPrepare(seen, 0, prepare), ...(promptFile ? { promptFile } : {}) },
    { type: 'ingest.planned', detail: { chunks: plan.chunks.length, format: plan.format, records: plan.records } },
    { seen },
  );
  const planned = moved ?? (await runs.get(runId));
  if (!planned || !awaitingChunks(planned)) return { outcome: 'replayed', runId };

  await mapLimited(plan.chunks, PUBLISH_AT_ONCE, (chunk) =>
    deps.send(ChunkRequested, runId, { source, chunk }, { correlationId }),
  );
  // If the chunks were quick, split may already have moved the run on; then there is nothing left to mark.
  await runs.update(runId, 'preparing', { stages: withPrepare(planned, 0, { chunksQueued: true }) }, undefined, {
    seen: planned,
  });
  return { outcome: 'planned', runId, chunks: plan.chunks.length };
}

/** Tells the sender of a `run.requested` that no run was started, and why (the handler then dead-letters it). */
async function rejectRequest(
  reason: string,
  request: { runId: string; correlationId: string },
  source: S3ObjectRef,
  deps: IngestDeps,
): Promise<void> {
  if (!deps.notify) return;
  const payload = {
    reason,
    request: { type: 'run.requested', ...request },
    source: { bucket: source.bucket, key: source.key },
    at: deps.now().toISOString(),
  };
  await deps.notify(
    buildMessage(RunRejected, request.runId, payload, request.correlationId, deps.now),
    requestAttributes(request),
  );
}

/** What to do about a dataset key with a `.` or `..` segment. */
const KEY_HINT = 'upload the dataset again under a key without "." or ".." path segments';

/** What to do about a configuration that does not parse (the reason names the setting and the layer). */
const CONFIG_HINT =
  'fix the setting named above in the configuration it comes from (the run.requested config, the <key>.run.json ' +
  'sidecar or the profile); every setting is in docs/configuration.md, and `btp run <file> --config <run.json>` checks ' +
  'a configuration before uploading';

/** Chunk messages sent at once: transform's environments start on them together, not one round trip apart. */
const PUBLISH_AT_ONCE = 10;

/**
 * A stage whose `maxRecordsPerJob` is over the records one job may hold fails every one of its jobs: every stage's is
 * checked before the first is prepared, so a chained run does not train its first stages to fail at a later one.
 */
function configRecordLimits(
  config: RunConfig,
  quotas: DeploymentRecordQuotas | undefined,
): { reason: string; hint: string } | undefined {
  for (let n = 0; n < stageCount(config); n++) {
    const errors = stageRecordLimitErrors(config, n, undefined, quotas);
    if (errors.length > 0)
      return {
        reason: `${config.stages ? `stage ${n}: ` : ''}${errors.join('; ')}`,
        hint: recordLimitHint(errors, config.stages ? `stages[${n}].` : ''),
      };
  }
  return undefined;
}

/** The first stage's plan; a template that cannot produce the model's format fails here, not in every chunk. */
async function planFirstStage(source: S3ObjectRef, config: RunConfig, datasets: DatasetStore): Promise<Plan> {
  resolveRecordRules(stageConfig(config, 0));
  return planInput(source, stageConfig(config, 0), datasets);
}

/** A promise's outcome as a value, so a promise started early rejects into no one's lap when its result is not used. */
const settle = <T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

/** A run whose first stage is planned but whose chunks may not all be queued (a crash between the two). */
function awaitingChunks(run: Run): boolean {
  return run.status === 'preparing' && currentStage(run) === 0 && currentPrepare(run)?.chunksQueued !== true;
}

/**
 * Plans a run left in `requested`: ingest recorded it and stopped before planning it (the function crashed or timed
 * out), and what started it (an upload's notification, a run.requested) is not delivered again. The sweeper sends
 * stage.requested for its stage 0. The run carries its source and resolved configuration, so it is checked and
 * planned as its first delivery would have done; a source replaced or deleted since, or a configuration that did not
 * resolve (its run id then derives from the invalid layers, not from the configuration kept), fails it with the
 * reason instead.
 */
async function resumeRequested(run: Run, correlationId: string, deps: IngestDeps): Promise<IngestResult> {
  const { source } = run;
  const name = sourceName(source);
  const info = await deps.datasets.head(source);
  if (!info) return failRequested(run, `${name} no longer exists`, 'upload the dataset again to start a run', {}, deps);
  if (!source.versionId && stripQuotes(info.etag) !== source.etag)
    return failRequested(
      run,
      `${name} was replaced after the run was recorded (ETag ${source.etag}, now ${stripQuotes(info.etag)})`,
      'the new upload starts a run of its own; this one has nothing left to read',
      {},
      deps,
    );
  if (runIdFor(source, run.config) !== run.runId)
    return failRequested(
      run,
      `${name}: the run configuration did not resolve when the run was recorded`,
      CONFIG_HINT,
      {},
      deps,
    );
  const limits = configRecordLimits(run.config, deps.recordQuotas);
  if (limits) return failRequested(run, limits.reason, limits.hint, {}, deps);
  const planned = await settle(planFirstStage(source, run.config, deps.datasets));
  if ('error' in planned) {
    const err = planned.error;
    if (err instanceof InputError) return failRequested(run, `${name}: ${err.message}`, err.hint, err.location, deps);
    throw err;
  }
  return startPreparing(run, planned.value, correlationId, deps);
}

/**
 * Plans a chained run's next stage: monitor moved the run to `preparing` at this stage when the previous stage's
 * model was ready. The stage's dataset is checked and planned with the stage's configuration, the plan is recorded,
 * then the chunks are queued. A redelivery while the run is still preparing this stage plans and queues again (the
 * plan is deterministic and transform does a chunk once); at any other status or stage it does nothing.
 */
async function prepareStage(
  runId: string,
  stage: number,
  correlationId: string,
  deps: IngestDeps,
): Promise<IngestResult> {
  const { runs, datasets, now } = deps;
  const run = await runs.get(runId);
  if (!run) return { outcome: 'ignored', why: `run ${runId} does not exist` };
  if (run.status === 'requested' && stage === 0) return resumeRequested(run, correlationId, deps);
  if (run.status !== 'preparing' || currentStage(run) !== stage) return { outcome: 'replayed', runId };
  const ref = stageSource(run, stage);
  // The run comes back to `preparing` for each stage: a write of this delivery is about this stage only.
  const atAnotherStage = (current: Run) => currentStage(current) !== stage;
  const fail = async (reason: string, hint: string, location: InputError['location'] = {}) => {
    await runs.transition(
      runId,
      'preparing',
      'failed',
      (current) => ({
        failure: {
          stage: 'ingest',
          reason: `stage ${stage}: ${reason}`,
          hint,
          location: { file: sourceName(ref), ...withoutOffset(location) },
          at: now().toISOString(),
        },
        stages: withPrepare(current, stage, { status: 'failed', endedAt: now().toISOString() }),
      }),
      { type: 'ingest.failed', detail: { reason, stage } },
      { unless: atAnotherStage },
    );
    return { outcome: 'failed' as const, runId, reason };
  };
  const info = await datasets.head(ref);
  if (!info)
    return fail(
      `${sourceName(ref)} does not exist`,
      `upload it, or set stages[${stage}].dataset to an object that exists (under inputs/ of the datasets bucket)`,
    );
  const source: S3ObjectRef = {
    ...ref,
    size: info.size,
    ...(info.etag ? { etag: stripQuotes(info.etag) } : {}),
    ...(info.versionId ? { versionId: info.versionId } : {}),
  };
  const config = stageConfig(run.config, stage);
  let plan: Plan;
  try {
    resolveRecordRules(config);
    plan = await planInput(source, config, datasets);
  } catch (err) {
    if (err instanceof InputError) return fail(`${sourceName(source)}: ${err.message}`, err.hint, err.location);
    throw err;
  }
  if (currentPrepare(run)?.plan === undefined) {
    const recorded = await runs.update(
      runId,
      'preparing',
      (current) => ({
        stages: withPrepare(current, stage, {
          status: 'running',
          startedAt: now().toISOString(),
          plan: ingestPlanOf(plan),
        }),
      }),
      {
        type: 'ingest.planned',
        detail: { stage, chunks: plan.chunks.length, format: plan.format, records: plan.records },
      },
      // Two copies of the stage's request that both read the run before either planned it: the second records no
      // second plan (another `ingest.planned`); the first queues the chunks.
      { unless: (current) => atAnotherStage(current) || currentPrepare(current)?.plan !== undefined },
    );
    if (!recorded || currentStage(recorded) !== stage) return { outcome: 'replayed', runId };
  }
  await mapLimited(plan.chunks, PUBLISH_AT_ONCE, (chunk) =>
    deps.send(ChunkRequested, runId, { source, chunk, stage }, { correlationId }),
  );
  return { outcome: 'planned', runId, chunks: plan.chunks.length, stage };
}

async function resolveConfig(
  source: S3ObjectRef,
  message: Record<string, unknown> | undefined,
  datasets: DatasetStore,
) {
  let sidecar: unknown;
  const layers: unknown[] = [];
  try {
    const text = await datasets.readText(source.bucket, source.key + SIDECAR_SUFFIX);
    if (text !== undefined) {
      try {
        sidecar = JSON.parse(text);
      } catch (err) {
        throw new InputError(`the sidecar ${source.key}${SIDECAR_SUFFIX} is not JSON: ${(err as Error).message}`);
      }
    }
    layers.push(sidecar, message);
    return { config: resolveLayers(source.key, sidecar, message), layers };
  } catch (err) {
    const reason =
      err instanceof InputError ? err.message : `the run configuration is invalid: ${describeConfigError(err)}`;
    return { config: resolveRunConfig(), configError: reason, layers: [layers, reason] };
  }
}

/**
 * Detects gzip and Parquet from the first bytes, then checks and plans the input: uncompressed JSON Lines of more than
 * one chunk is cut by byte ranges without being read (each transform checks its range), anything else is read once.
 */
export async function planInput(source: S3ObjectRef, config: RunConfig, datasets: DatasetStore): Promise<Plan> {
  const size = source.size ?? 0;
  if (size === 0) throw new InputError('the file is empty', { offset: 0 });
  const prep = config.prep;
  const file = sourceName(source);
  const encoding = await checkEncoding(prep.encoding);
  const head = await firstBytes(await datasets.open(source, { start: 0, end: Math.min(size, 16) }));
  const compression = isGzip(head) ? 'gzip' : 'none';
  const inner = compression === 'gzip' ? await firstBytes((await datasets.open(source)).pipe(createGunzip())) : head;
  if (prep.format === 'parquet' || isParquet(inner)) {
    if (compression === 'none') return planParquet(datasets.parquet(source, size), { file, prep, compression });
    const whole: Buffer[] = [];
    for await (const b of (await datasets.open(source)).pipe(createGunzip())) whole.push(b as Buffer);
    return planParquet(bufferAsAsync(Buffer.concat(whole)), { file, prep, compression });
  }
  if (compression === 'none' && !encoding) {
    const byRanges = await planJsonLinesByRanges(datasets, source, { file, prep, size });
    if (byRanges) return byRanges;
  }
  try {
    return await planText(await datasets.open(source), { file, key: source.key, prep, size, compression, encoding });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code?.startsWith('Z_')) throw new InputError(`the gzip data is broken: ${(err as Error).message}`);
    throw err;
  }
}

async function firstBytes(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const b of stream) {
      parts.push(b as Buffer);
      n += (b as Buffer).length;
      if (n >= 16) break;
    }
  } catch (err) {
    const gz = (err as { code?: string }).code?.startsWith('Z_');
    throw new InputError(`${gz ? 'the gzip data is broken' : 'the file cannot be read'}: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, 16);
}

function describeConfigError(err: unknown): string {
  const issues = (err as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues;
  return issues
    ? issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ')
    : (err as Error).message;
}

const withoutOffset = ({ offset: _o, ...rest }: InputError['location']) => rest;

/**
 * Where a run may read its input: the prefixes of the datasets bucket that serverless.yml's
 * `custom.access.inputObjects` lets ingest and transform read (datasets/, where an upload starts a run, and inputs/,
 * for datasets that must not).
 */
export const INPUT_PREFIXES = ['datasets/', 'inputs/'] as const;

/**
 * A run request may name only an object this pipeline is meant to read: under an input prefix of the datasets bucket.
 * Anything else is refused before any read, so another team's message cannot widen what a run reads (or, where the
 * role's policy would deny the read, fail later with a less clear error): its sender hears why (run.rejected), and the
 * message is dead-lettered with the reason.
 */
function outsideDatasets(source: { bucket: string; key: string }, datasetsBucket: string | undefined) {
  if (datasetsBucket !== undefined && source.bucket !== datasetsBucket)
    return `run.requested names the bucket "${source.bucket}": runs read datasets only from the bucket "${datasetsBucket}"`;
  const relative = relativeSegments(source.key);
  if (relative) return `run.requested names the key "${source.key}": ${relative}`;
  if (!INPUT_PREFIXES.some((p) => source.key.startsWith(p)) || source.key.endsWith(SIDECAR_SUFFIX))
    return (
      `run.requested names the key "${source.key}": a dataset is an object under ${INPUT_PREFIXES.join(' or ')} ` +
      `(not a ${SIDECAR_SUFFIX} sidecar)`
    );
  return undefined;
}

/**
 * A key with a `.` or `..` segment. S3 keys are names, not paths, so S3 itself resolves nothing; but such a key reads
 * as a path out of the input prefixes (`datasets/../private/x.jsonl`) to a person, a log search, an IAM prefix check
 * or a tool that copies the object to a file system, which may resolve it. A run is never started on one.
 */
function relativeSegments(key: string): string | undefined {
  const segment = key.split('/').find((s) => s === '.' || s === '..');
  return segment && `has a "${segment}" path segment: a dataset's key is a plain path under its prefix`;
}
