import {
  EvaluationSample,
  JudgeGrades,
  readJsonArtifact,
  writeJsonArtifact,
  type JudgeGrade,
  type JudgeRecord,
} from '../../shared/artifacts';
import { findByInferenceId } from '../../shared/catalog';
import { describeJudgeEstimate } from '../../shared/evaluation/judge-notes';
import { estimateJudgeCost, judgeCallDigest, judgePrompt, parseGrade } from '../../shared/evaluation/judge';
import { isBedrockError, type BedrockCallError, type OrchestrationDeps } from '../../shared/orchestration/ports';
import { evaluationJudgeKey } from '../../shared/runs/keys';
import type { Run } from '../../shared/runs/run';

type JudgeDeps = Pick<OrchestrationDeps, 'bedrock' | 'objects' | 'settings'>;

export type JudgeOutcome =
  | { kind: 'judged'; lines: EvaluationSample[]; judge: JudgeRecord; warning?: string }
  /** Throttled or a transient error: the caller backs off and asks again (the grades received are stored). */
  | { kind: 'retry'; error: BedrockCallError };

/**
 * The judge model's grades of the run's answers (config `evaluation.judge`): at most `maxSamples` answered samples
 * that are scored (not seen in training), the prompt file's first and then the held-out test records', are each
 * sent, in the rubric (shared/evaluation/judge.ts), to the judge on demand, and its reply is read strictly; the
 * grade goes on the sample line. The cost is estimated before any call and recorded; above `maxUsd` no call is
 * made. Every reply is stored in `evaluation/judge.json` with a digest of its call before this returns, so a
 * redelivered or retried message reuses it and no answer is judged (or paid for) twice; the recorded calls are those
 * stored, the same number after a redelivery.
 */
export async function judgeAnswers(
  run: Pick<Run, 'runId' | 'config'>,
  lines: readonly EvaluationSample[],
  deps: JudgeDeps,
): Promise<JudgeOutcome> {
  const config = run.config.evaluation.judge!;
  const { modelId, maxTokens, maxSamples, maxUsd } = config;
  const { bedrock, objects, settings } = deps;
  // The user's own prompts first (a prompt file holds at most 200), then the held-out test records, as many as fit.
  const scoredAt = lines.flatMap((l, at) => (l.modelOutput !== undefined && !l.seenInTraining ? [{ l, at }] : []));
  const chosen = [
    ...scoredAt.filter(({ l }) => l.source === 'prompts'),
    ...scoredAt.filter(({ l }) => l.source !== 'prompts'),
  ]
    .slice(0, maxSamples)
    .map(({ l, at }) => {
      const reference = l.noReference ? undefined : l.reference;
      const prompt = judgePrompt({ prompt: l.prompt, answer: l.modelOutput!, ...(reference ? { reference } : {}) });
      return { at, index: l.index, prompt, digest: judgeCallDigest(modelId, maxTokens, prompt) };
    });
  const estimate = estimateJudgeCost({ modelId, prompts: chosen.map((c) => c.prompt), maxTokens });
  const skip = (skipped: string): JudgeOutcome => ({
    kind: 'judged',
    lines: [...lines],
    judge: { modelId, estimate, calls: 0, skipped },
    warning: `the judge ${modelId} was not asked: ${skipped}`,
  });
  const model = findByInferenceId(modelId);
  if (!model) return skip(`it is not a model the catalog knows by its on-demand id (shared/catalog/models.ts)`);
  if (maxUsd !== undefined && (estimate.usd === null || estimate.usd > maxUsd))
    return skip(
      `its estimated cost (${describeJudgeEstimate(estimate)}) is ${estimate.usd === null ? 'unknown' : 'above'} ` +
        `evaluation.judge.maxUsd ($${maxUsd})`,
    );
  if (!bedrock.invokeText) return skip('this deployment has no Bedrock runtime client');

  const key = evaluationJudgeKey(run.runId);
  const bucket = settings.artifactsBucket;
  const storedText = await objects.getText(bucket, key);
  const stored = storedText === undefined ? undefined : readJsonArtifact(JudgeGrades, storedText, key);
  const received = new Map(
    (stored?.modelId === modelId ? stored.grades : []).map((g) => [`${g.index}|${g.digest}`, g]),
  );
  const before = received.size;
  const save = async () => {
    if (received.size === before) return;
    const file: JudgeGrades = { schemaVersion: 1, modelId, grades: [...received.values()] };
    await objects.putText(bucket, key, `${writeJsonArtifact(JudgeGrades, file, key)}\n`, 'application/json');
  };

  const out = [...lines];
  let stopped: string | undefined; // an error every later call would get too (access denied, no such model)
  for (const c of chosen) {
    const known = received.get(`${c.index}|${c.digest}`);
    let grade: JudgeGrade;
    if (known) grade = known.grade;
    else if (stopped) grade = { status: 'error', error: stopped };
    else {
      try {
        const got = await bedrock.invokeText(modelId, c.prompt, maxTokens, model.family);
        grade = parseGrade(got.text);
        received.set(`${c.index}|${c.digest}`, {
          index: c.index,
          digest: c.digest,
          grade,
          ...(got.emulated ? { emulated: got.emulated } : {}),
        });
      } catch (err) {
        if (isBedrockError(err, 'throttled', 'quota', 'transient')) {
          await save();
          return { kind: 'retry', error: err };
        }
        if (!isBedrockError(err)) {
          await save();
          throw err; // unknown: the message returns to the queue, and the grades received are kept
        }
        const why = `${err.code}: ${err.message}`;
        if (!isBedrockError(err, 'validation')) stopped = why;
        grade = { status: 'error', error: why };
      }
    }
    out[c.at] = { ...out[c.at]!, judge: grade };
  }
  await save();
  const used = chosen.flatMap((c) => {
    const g = received.get(`${c.index}|${c.digest}`);
    return g ? [g] : [];
  });
  const emulated = used.find((g) => g.emulated)?.emulated;
  const problems = chosen.length - used.filter((g) => g.grade.status === 'graded').length;
  return {
    kind: 'judged',
    lines: out,
    judge: { modelId, estimate, calls: used.length, ...(emulated ? { emulated } : {}) },
    ...(problems
      ? { warning: `the judge ${modelId} gave no grade for ${problems} of ${chosen.length} answers (see judge)` }
      : {}),
  };
}
