import type { EvaluationRecord, GateRecord, Run } from '../../shared/runs/run';
import {
  EvaluationSample,
  EvaluationScores,
  OVERLAP_METRIC,
  parseArtifact,
  TestSetExtras,
  writeJsonLines,
  type HeldOutCheck,
  type JudgeRecord,
  type ScoreSummary,
} from '../../shared/artifacts';
import { decideGate } from '../../shared/evaluation/gate';
import { deleteDeployment, expireThroughput } from '../provision/provision';
import { checkHeldOut, conversationTurns, preparedRecord } from '../../shared/evaluation/held-out';
import { scoreSample, scoreTable } from '../../shared/evaluation/scores';
import { retryDelaySeconds } from '../../shared/orchestration/backoff';
import { evaluationPlan, requestEvaluation, type EvaluationPlan } from '../../shared/orchestration/evaluation';
import { isBedrockError, type OrchestrationDeps } from '../../shared/orchestration/ports';
import { evaluationSamplesKey, evaluationScoresKey } from '../../shared/runs/keys';
import { currentPrepare } from '../../shared/runs/record';
import { invokeServedModel, servedModelOf } from '../../shared/orchestration/serving';
import { evaluateBase, type AskedPrompt } from './base';
import { judgeAnswers } from './judge';
import { filePromptText, promptFileDigest, promptFileRef, readPromptFile } from '../../shared/evaluation/prompt-file';
import { InputError } from '../../shared/prep/errors';

type EvaluationResult = NonNullable<EvaluationRecord['result']>;

export type EvaluateDeps = Pick<
  OrchestrationDeps,
  'runs' | 'bedrock' | 'objects' | 'send' | 'settings' | 'now' | 'random' | 'count'
>;

export type EvaluateOutcome = 'evaluated' | 'partial' | 'throttled' | 'duplicate' | 'stale' | 'unknown-run';

/**
 * Titan's output cap per sample (textGenerationConfig.maxTokenCount) by default (config `evaluation.maxTokenCount`):
 * enough for a dolly-style answer, cheap to run.
 */
export const MAX_TOKEN_COUNT = 512;

/** A continued pre-training record has no prompt: the start of its text is the prompt, what follows is expected. */
const CPT_PROMPT_CHARS = 1000;

interface TestPrompt {
  kind: EvaluationSample['kind'];
  prompt: string;
  reference: string;
  /** The record's category, which split put on the test set's line (TestSetExtras). */
  category?: string;
}

/** A prompt as it is asked: a test record's, or a prompt file's line (source `prompts`), with its place in the file. */
type Ask = Pick<
  EvaluationSample,
  'index' | 'kind' | 'prompt' | 'reference' | 'source' | 'category' | 'maxTokenCount' | 'noReference'
>;

/**
 * The prompts of the user's prompt file (config `evaluation.promptFile`), read through the schema ingest checked it
 * with, numbered after the test records. Ingest recorded the file's SHA-256 on the run (a variant's run has its
 * experiment's): a file deleted, changed, or changed into a bad one since the run started is not asked, and the
 * warning says why (the model is trained by now; the held-out set is still evaluated), so every variant of an
 * experiment is asked the same prompts, the ones that were checked.
 */
async function promptFileAsks(
  run: Run,
  first: number,
  { objects }: Pick<EvaluateDeps, 'objects'>,
): Promise<{ asks: Ask[]; file?: EvaluationScores['promptFile']; warning?: string }> {
  const ref = promptFileRef(run.config, run.source.bucket);
  if (!ref) return { asks: [] };
  const name = `s3://${ref.bucket}/${ref.key}`;
  const text = await objects.getText(ref.bucket, ref.key);
  if (text === undefined)
    return { asks: [], warning: `the prompt file ${name} no longer exists: its prompts were not asked` };
  const sha256 = promptFileDigest(text);
  const checked = run.promptFile?.sha256;
  if (checked !== undefined && checked !== sha256)
    return {
      asks: [],
      warning:
        `the prompt file ${name} changed since the run started (SHA-256 ${sha256.slice(0, 12)}..., ` +
        `checked ${checked.slice(0, 12)}...): its prompts were not asked`,
    };
  let prompts;
  try {
    prompts = readPromptFile(text, name);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return {
      asks: [],
      warning: `the prompt file changed since the run started (${err.message}): its prompts were not asked`,
    };
  }
  const asks = prompts.map((p, i): Ask => ({
    index: first + i,
    kind: 'prompt-completion',
    prompt: filePromptText(run.config, p),
    reference: p.reference ?? '',
    source: 'prompts',
    category: p.category,
    ...(p.maxTokenCount !== undefined ? { maxTokenCount: p.maxTokenCount } : {}),
    ...(p.reference === undefined ? { noReference: true as const } : {}),
  }));
  return { asks, file: { ...ref, prompts: prompts.length, sha256 } };
}

/**
 * The prompt of a prepared test record. Fine-tuning records (`{prompt, completion}`, or a conversation's user turn)
 * are sent as they were trained.
 * A continued pre-training record (`{input}`) is a document: its first half, at most 1,000 characters (code points),
 * is the prompt and the next as many characters are the expected continuation, so the samples show whether the
 * model continues text of the corpus the way the corpus does.
 */
export function testPrompt(line: string, where = 'a test record'): TestPrompt | undefined {
  const r = preparedRecord(line);
  if (!r) return undefined;
  const { category } = parseArtifact(TestSetExtras, r, where);
  const of = (p: Omit<TestPrompt, 'category'>): TestPrompt => (category ? { ...p, category } : p);
  const turns = conversationTurns(r);
  if (turns) return of({ kind: 'prompt-completion', ...turns });
  if (typeof r.prompt === 'string')
    return of({
      kind: 'prompt-completion',
      prompt: r.prompt,
      reference: typeof r.completion === 'string' ? r.completion : '',
    });
  if (typeof r.input === 'string') {
    const chars = [...r.input];
    const cut = Math.min(CPT_PROMPT_CHARS, Math.ceil(chars.length / 2));
    return of({
      kind: 'continuation',
      prompt: chars.slice(0, cut).join(''),
      reference: chars.slice(cut, cut * 2).join(''),
    });
  }
  return undefined;
}

/**
 * Tries the run's new model on held-out data, the product's "buy Provisioned Throughput, try the model": the first
 * `provisioning.evaluateSamples` records of the last stage's `prepared/test.jsonl` are sent to the provisioned model
 * (InvokeModel, Titan body, temperature 0, `evaluation.maxTokenCount`), then the prompts of the user's prompt file
 * (`evaluation.promptFile`, promptFileAsks) if there is one, and the prompts, expected completions and
 * answers are written to `runs/<id>/evaluation/samples.jsonl`, where the report shows them, each answer with its
 * scores (shared/evaluation); the training and validation sets are read to prove the test prompts were held out; the
 * score table goes to `evaluation/scores.json` and, overall and by category, onto the run; the base model is asked
 * the same prompts where the gate compares with it (./base.ts); then `evaluating -> succeeded`.
 *
 * Idempotent: at temperature 0 a redelivery writes the same file and then loses the conditional transition.
 * Throttling and transient errors (5xx, timeouts) back off with a delayed copy of the request (as submit does) up to
 * `maxThrottleRetries`; unknown errors throw, so SQS retries the message. A model that cannot answer
 * (ValidationException, access denied, a throughput deleted meanwhile) does not fail the run: the model was trained
 * and provisioned, which is what the run delivers, and the throughput bills by the hour whatever the evaluation
 * does, so failing the run would only hide a usable model behind a `failed` status (and invite a resume that buys
 * throughput again). The reason is recorded as
 * a warning on the run, in `evaluation.warning` and on each sample line it affected, and the run succeeds.
 */
export async function evaluateModel(
  runId: string,
  provisionedModelArn: string,
  deps: EvaluateDeps,
  opts: { retry?: number; correlationId?: string } = {},
): Promise<EvaluateOutcome> {
  const { runs, bedrock, objects, settings, now } = deps;
  const run = await runs.get(runId);
  if (!run) return 'unknown-run';
  // The message names what serves the model: its throughput, or its custom model deployment.
  const served = servedModelOf(run)?.arn === provisionedModelArn;
  // A redelivery after the decision: finish what a crash may have left of it (enforceGate does nothing twice).
  if (run.status === 'succeeded' && run.gate?.decision === 'delete' && served) {
    await enforceGate(run, deps);
    return 'duplicate';
  }
  if (run.status !== 'evaluating' || !served) return 'stale';
  const plan = recordedPlan(run);
  const samplesKey = evaluationSamplesKey(runId);
  const bucket = settings.artifactsBucket;

  const lines: EvaluationSample[] = [];
  const { maxTokenCount, overlongRatio } = run.config.evaluation;
  let testLines: string[] = [];
  let warning: string | undefined;
  /** The emulator's note, when it answered instead of a model (the report says so). */
  let emulated: string | undefined;
  const text = plan ? await objects.getText(bucket, plan.testKey) : undefined;
  const invoke = bedrock.invokeText
    ? (prompt: string, cap = maxTokenCount) => invokeServedModel(bedrock, run, prompt, cap)
    : undefined;
  let fromFile: Awaited<ReturnType<typeof promptFileAsks>> = { asks: [] };
  if (!plan || text === undefined) {
    warning = `no test records to evaluate${plan ? `: ${plan.testKey} does not exist` : ''}`;
  } else if (!invoke) {
    warning = 'this deployment has no Bedrock runtime client, so the model was not invoked';
  } else {
    testLines = text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(0, plan.samples);
    // A test line that is no prompt is kept with its reason (`error`), the others are asked.
    const tests = testLines.map((line, index): Ask & { error?: string } => {
      const error = (why: string) => ({
        index,
        kind: 'prompt-completion' as const,
        prompt: '',
        reference: '',
        source: 'test' as const,
        error: why,
      });
      try {
        const p = testPrompt(line, `${plan.testKey} line ${index + 1}`);
        return p ? { index, ...p, source: 'test' } : error('not a prompt/completion or input record');
      } catch (err) {
        return error((err as Error).message); // a line split did not write: kept with its reason, the others asked
      }
    });
    fromFile = await promptFileAsks(run, testLines.length, deps);
    if (fromFile.warning) warning = fromFile.warning;
    let stopped: string | undefined; // an error that every later call would get too
    const asks: Array<Ask & { error?: string }> = [...tests, ...fromFile.asks];
    for (const p of asks) {
      if (p.error !== undefined) {
        lines.push(p);
        continue;
      }
      if (stopped) {
        lines.push({ ...p, error: stopped });
        continue;
      }
      try {
        const got = await invoke(p.prompt, p.maxTokenCount);
        emulated ??= got.emulated;
        lines.push({ ...p, modelOutput: got.text });
      } catch (err) {
        if (isBedrockError(err, 'throttled', 'quota', 'transient')) {
          const retry = (opts.retry ?? 0) + 1;
          if (retry <= settings.maxThrottleRetries) {
            await backOff(run, retry, deps, opts.correlationId);
            return 'throttled';
          }
          stopped = `still ${err.kind === 'transient' ? 'failing' : 'throttled'} after ${settings.maxThrottleRetries} retries: ${err.message}`;
        } else if (isBedrockError(err, 'validation')) {
          lines.push({ ...p, error: `${err.code}: ${err.message}` }); // may be this prompt alone: try the next
          continue;
        } else if (isBedrockError(err, 'access-denied', 'not-found', 'conflict')) {
          stopped = `${err.code}: ${err.message}`;
        } else {
          throw err; // unknown: the message returns to the queue and is retried
        }
        lines.push({ ...p, error: stopped });
      }
    }
    const failed = lines.filter((l) => l.error !== undefined);
    if (failed.length) {
      const why = `the model could not answer ${failed.length} of ${lines.length} prompts (${failed[0]!.error})`;
      warning = warning ? `${warning}; ${why}` : why;
    }
  }

  let heldOut: HeldOutCheck | undefined;
  if (plan && testLines.length) {
    const sets = currentPrepare(run)?.split;
    try {
      heldOut = await checkHeldOut(
        objects,
        bucket,
        { key: plan.testKey, lines: testLines.map((line, index) => ({ index, line })) },
        sets ? [sets.train, sets.validation].filter((f) => f.records > 0) : [],
      );
    } catch (err) {
      const why = `the held-out check could not read the training sets (${(err as Error).message})`;
      warning = warning ? `${warning}; ${why}` : why;
    }
  }
  const seen = new Set(heldOut?.overlappingIndexes);
  if (heldOut && heldOut.overlapping > 0) {
    const why = `${heldOut.overlapping} test prompt(s) are in the training or validation set and are not scored`;
    warning = warning ? `${warning}; ${why}` : why;
  }
  const answeredLines = lines.map((l): EvaluationSample => {
    const held = l.source === 'test' && seen.has(l.index);
    const marked: EvaluationSample = { ...l, ...(held ? { seenInTraining: true } : {}) };
    if (l.modelOutput === undefined) return marked;
    const { prompt, reference, modelOutput: answer } = l;
    const hasReference = l.noReference ? false : undefined;
    return { ...marked, scores: scoreSample({ prompt, reference, answer, hasReference }, { overlongRatio }) };
  });

  // The judge model grades the answers, when one is configured (config `evaluation.judge`; off by default).
  let scored = answeredLines;
  let judgeRecord: JudgeRecord | undefined;
  if (run.config.evaluation.judge && answeredLines.some((l) => l.modelOutput !== undefined)) {
    const got = await judgeAnswers(run, answeredLines, deps);
    if (got.kind === 'retry') {
      const retry = (opts.retry ?? 0) + 1;
      if (retry > settings.maxThrottleRetries) throw got.error; // SQS retries it; the grades received are kept
      await backOff(run, retry, deps, opts.correlationId);
      return 'throttled';
    }
    scored = got.lines;
    judgeRecord = got.judge;
    if (got.warning) warning = warning ? `${warning}; ${got.warning}` : got.warning;
  }
  const table = scoreTable(scored);
  const scoresKey = evaluationScoresKey(runId);

  // The base model, asked the same prompts, for the gate's comparison (config `evaluation.baseModel`).
  let base: NonNullable<EvaluationResult['base']> | undefined;
  const asked = scored.filter((l) => l.prompt !== '');
  if (asksBase(run) && asked.length && bedrock.invokeText) {
    const pick = (l: EvaluationSample): AskedPrompt => {
      const { index, kind, prompt, reference, source, category, seenInTraining, maxTokenCount, noReference } = l;
      return {
        index,
        kind,
        prompt,
        reference,
        ...(source !== undefined ? { source } : {}),
        ...(category !== undefined ? { category } : {}),
        ...(seenInTraining ? { seenInTraining } : {}),
        ...(maxTokenCount !== undefined ? { maxTokenCount } : {}),
        ...(noReference ? { noReference } : {}),
      };
    };
    const got = await evaluateBase(run, asked.map(pick), deps);
    if (got.kind === 'retry') {
      const retry = (opts.retry ?? 0) + 1;
      if (retry > settings.maxThrottleRetries) throw got.error; // SQS retries it; the sweeper drives the run later
      await backOff(run, retry, deps, opts.correlationId);
      return 'throttled';
    }
    if (got.kind === 'scored') {
      const { modelId, scoresKey, overall, byCategory } = got;
      base = { modelId, scoresKey, overall, byCategory };
    }
    if (got.kind === 'unavailable') {
      base = { modelId: got.modelId, warning: got.warning };
      const why = `the base model ${got.modelId} could not answer, so nothing is compared with it (${got.warning})`;
      warning = warning ? `${warning}; ${why}` : why;
    }
  }

  // Rewritten by a redelivery with the same content (temperature 0, no timestamps in it). But a copy that was still
  // asking when another copy finished writes nothing: its answers can differ from the files the run records (the
  // other copy's gate may have deleted the throughput, which then answers "not found"). The run is read again here,
  // which leaves a window of one read and two writes instead of the whole evaluation.
  const current = await runs.get(runId);
  if (current?.status !== 'evaluating' || servedModelOf(current)?.arn !== provisionedModelArn) return 'duplicate';
  await objects.putText(
    bucket,
    samplesKey,
    writeJsonLines(EvaluationSample, scored, samplesKey),
    'application/x-ndjson',
  );
  const scores = EvaluationScores.parse({
    schemaVersion: 1,
    runId,
    model: { kind: 'custom', id: provisionedModelArn },
    maxTokenCount,
    overlongRatio,
    overlapMetric: OVERLAP_METRIC,
    samplesKey,
    ...(heldOut ? { heldOut } : {}),
    ...(fromFile.file ? { promptFile: fromFile.file } : {}),
    ...(emulated ? { emulated } : {}),
    ...(judgeRecord ? { judge: judgeRecord } : {}),
    ...table,
  });
  await objects.putText(bucket, scoresKey, `${JSON.stringify(scores, null, 2)}\n`, 'application/json');
  const answered = lines.filter((l) => l.modelOutput !== undefined).length;
  const at = now().toISOString();
  const gate = gateApplies(run) ? judge(table.overall, base?.overall, run, at) : undefined;
  const result = {
    samplesKey,
    samples: answered,
    failed: lines.length - answered,
    ...(warning ? { warning } : {}),
    scoresKey,
    scores: { overall: table.overall, byCategory: table.byCategory },
    ...(heldOut ? { heldOut } : {}),
    ...(emulated ? { emulated } : {}),
    ...(judgeRecord ? { judge: judgeRecord } : {}),
    ...(base ? { base } : {}),
  };
  const done = await runs.transition(
    runId,
    'evaluating',
    'succeeded',
    // Built from the run as the write finds it: an expiry or a back-off may have written to it since it was read.
    (current) => ({
      ...(warning ? { warnings: [...(current.warnings ?? []), `evaluation: ${warning}`] } : {}),
      ...(gate ? { gate } : {}),
      evaluation: {
        ...current.evaluation,
        ...(plan ? { plan } : {}),
        status: 'done',
        attempts: (current.evaluation?.attempts ?? 0) + 1,
        endedAt: at,
        result,
      },
    }),
    {
      type: 'evaluation.done',
      detail: {
        provisionedModelArn,
        ...result,
        scores: table.overall,
        ...(heldOut ? { heldOut: { checked: heldOut.checked, overlapping: heldOut.overlapping } } : {}),
        ...(gate ? { gate: { decision: gate.decision, reasons: gate.reasons } } : {}),
      },
    },
  );
  if (!done) return 'duplicate';
  if (gate?.decision === 'delete') await enforceGate(done, deps);
  return warning ? 'partial' : 'evaluated';
}

/**
 * Whether the gate judges this run (config `evaluation.gate.appliesTo`). Variants are the runs an experiment makes
 * (`parentRunId`); `every-run` judges a single model too.
 */
function gateApplies(run: Run): boolean {
  const { appliesTo } = run.config.evaluation.gate;
  return appliesTo === 'every-run' || (appliesTo === 'variants' && isVariant(run));
}

/** A variant's run names the experiment it belongs to. */
const isVariant = (run: Run): boolean => run.parentRunId !== undefined;

/**
 * Whether the base model is asked too (config `evaluation.baseModel`): by default when the gate judges the run and
 * compares its overlap with the base model's.
 */
function asksBase(run: Run): boolean {
  const { baseModel, gate } = run.config.evaluation;
  return baseModel === 'always' || (baseModel === 'when-gated' && gateApplies(run) && gate.overlapAboveBase);
}

/** The gate's decision on the run's scores, against the base model's where it was asked (shared/evaluation/gate.ts). */
function judge(scores: ScoreSummary, base: ScoreSummary | undefined, run: Run, at: string): GateRecord {
  return { ...decideGate(scores, base, run.config.evaluation.gate), decidedAt: at };
}

/**
 * Carries out a `delete` decision: deletes the run's custom model deployment, or its throughput now (its time to live
 * no longer matters; a commitment term cannot be deleted and stays), then its custom model when
 * `evaluation.gate.deleteModels` is set, and records each on the run's gate. Each deletion is done once: what the
 * record says is deleted is not deleted again, and a deletion Bedrock reports as already done counts as done, so a
 * redelivered message finishes a crashed one.
 */
export async function enforceGate(run: Run, deps: EvaluateDeps): Promise<void> {
  const { runs, bedrock, now } = deps;
  let gate = run.gate!;
  if (!gate.deploymentDeletedAt && run.deploymentArn) {
    // A deployment bills per token, not by the hour, but a losing model is not to be served either.
    await deleteDeployment(run.runId, run.deploymentArn, deps);
    gate = { ...gate, deploymentDeletedAt: now().toISOString() };
    const updated = await runs.update(
      run.runId,
      run.status,
      { gate },
      { type: 'gate.deployment-deleted', detail: { deploymentArn: run.deploymentArn, reasons: gate.reasons } },
    );
    if (!updated) return; // the run moved on (a cleanup, a resume): it owns what is left
  }
  if (!gate.throughputDeletedAt && run.provisionedModelArn) {
    const outcome = await expireThroughput(run.runId, run.provisionedModelArn, deps, { force: true });
    if (outcome === 'commitment') return; // a commitment term is paid for whatever we do; nothing else to delete
    gate = { ...gate, throughputDeletedAt: now().toISOString() };
    const updated = await runs.update(
      run.runId,
      run.status,
      { gate },
      {
        type: 'gate.throughput-deleted',
        detail: { provisionedModelArn: run.provisionedModelArn, reasons: gate.reasons },
      },
    );
    if (!updated) return; // the run moved on (a cleanup, a resume): it owns what is left
  }
  if (run.config.evaluation.gate.deleteModels && run.modelArn && !gate.modelDeletedAt && bedrock.deleteCustomModel) {
    try {
      await bedrock.deleteCustomModel(run.modelArn);
    } catch (err) {
      if (!isBedrockError(err, 'not-found')) throw err;
    }
    await runs.update(
      run.runId,
      run.status,
      { gate: { ...gate, modelDeletedAt: now().toISOString() } },
      {
        type: 'gate.model-deleted',
        detail: { modelArn: run.modelArn },
      },
    );
  }
}

/** The plan provision recorded when it moved the run to `evaluating` (recomputed for a run that lacks it). */
const recordedPlan = (run: Run): EvaluationPlan | undefined => run.evaluation?.plan ?? evaluationPlan(run);

/**
 * A delayed copy of the request. Touching the run on the way keeps its `updatedAt` fresh, so the sweeper does not
 * take a long backoff for a lost message and send a second copy.
 */
async function backOff(run: Run, retry: number, deps: EvaluateDeps, correlationId?: string) {
  const { runs, settings } = deps;
  const delaySeconds = retryDelaySeconds(retry, settings, deps.random);
  await runs.update(run.runId, 'evaluating', (current) => ({
    evaluation: { status: 'running', attempts: 0, ...current.evaluation, throttledRetries: retry },
  }));
  await requestEvaluation(
    run.runId,
    servedModelOf(run)!.arn,
    { retry, delaySeconds, ...(correlationId ? { correlationId } : {}) },
    deps,
  );
}
