import { GetObjectCommand } from '@aws-sdk/client-s3';
import { handler as submit } from '../../../services/submit/handler';
import { handler as monitor } from '../../../services/monitor/handler';
import { handler as provision } from '../../../services/provision/handler';
import { handler as evaluate } from '../../../services/evaluate/handler';
import { EvaluationSample, EvaluationScores, JudgeGrades, readJsonLines } from '../../../shared/artifacts';
import { judgeAnswers } from '../../../services/evaluate/judge';
import type { Run } from '../../../shared/runs/run';
import { resolveRunConfig, type RunConfigInput } from '../../../shared/config/run-config';
import { TITAN_RECIPE_DATE } from '../../../shared/catalog';
import { TITAN_2024 } from '../../helpers/orchestration/fakes';

import {
  BUCKET,
  drive,
  givenPreparedRun,
  records,
  send,
  startLocalEnv,
  type LocalEnv,
} from '../../helpers/orchestration/local-env';

/** The 2024 Titan recipe's configuration, with a test's own settings over it. */
const titan = (config: RunConfigInput = {}) => resolveRunConfig(TITAN_2024, config);

jest.setTimeout(120_000);

let env: LocalEnv;
const handlers = { submit, monitor, provision, evaluate };

beforeAll(async () => {
  // These runs are the 2024 Titan recipe's (prompt/completion records): Bedrock as it was then.
  env = await startLocalEnv({ catalogDate: TITAN_RECIPE_DATE });
});
afterAll(async () => {
  await env?.close();
});

const run = async (runId: string) => (await env.runs.get(runId))!;
const inStatus =
  (runId: string, ...statuses: Run['status'][]) =>
  async () =>
    statuses.includes((await run(runId)).status);

describe('a fine-tuning run tries its new model before it succeeds', () => {
  it("goes provisioning -> evaluating -> succeeded with the Bedrock emulator's answers in evaluation/samples.jsonl", async () => {
    // given a prepared run whose held-out test set repeats two training prompts and has one the model never saw
    const train = records(40);
    const test = [...records(2), ...records(2, 900)];
    const config = titan({ provisioning: { evaluateSamples: 3 }, evaluation: { baseModel: 'always' } });
    const prepared = await givenPreparedRun(env, 'ft-eval', config, {
      train,
      validation: records(8, 100),
      test,
    });
    await send(env, 'submit', prepared);
    // when the handlers run until the run ends, every message delivered twice
    await drive(env, handlers, inStatus('ft-eval', 'succeeded', 'failed'), { beforeInvoke: () => 'duplicate' });
    // then the run succeeded through evaluating, once
    const r = await run('ft-eval');
    expect(r.failure).toBeUndefined();
    expect(r.status).toBe('succeeded');
    const events = await env.runs.listEvents('ft-eval');
    const moves = events.filter((e) => e.from && e.to && e.from !== e.to).map((e) => `${e.from}->${e.to}`);
    expect(moves.slice(-2)).toEqual(['provisioning->evaluating', 'evaluating->succeeded']);
    expect(events.filter((e) => e.type === 'evaluation.done')).toHaveLength(1);
    expect(r.evaluation?.result).toMatchObject({
      samplesKey: 'runs/ft-eval/evaluation/samples.jsonl',
      samples: 3,
      failed: 0,
      scoresKey: 'runs/ft-eval/evaluation/scores.json',
    });
    // and the held-out check read the training and validation sets from S3 and found the two repeated prompts, which
    // are left out of the scores
    expect(r.evaluation?.result?.heldOut).toEqual({
      testKey: 'runs/ft-eval/stages/0/prepared/test.jsonl',
      checked: 3,
      against: [
        { key: 'runs/ft-eval/stages/0/prepared/train.jsonl', records: 40 },
        { key: 'runs/ft-eval/stages/0/prepared/validation.jsonl', records: 8 },
      ],
      overlapping: 2,
      overlappingIndexes: [0, 1],
    });
    expect(r.evaluation?.result?.scores?.overall).toMatchObject({ samples: 1, answered: 1 });
    // the answers are the emulator's, and the run says so (the report shows it)
    expect(r.evaluation?.result?.emulated).toMatch(/^Bedrock emulator: no model ran/);
    // and the base model, Titan Text G1 - Lite on demand, was asked the same prompts and scored
    expect(r.evaluation?.result?.base).toMatchObject({
      modelId: 'amazon.titan-text-lite-v1',
      scoresKey: expect.stringMatching(/^runs\/ft-eval\/evaluation\/base\/[0-9a-f]{16}\/scores\.json$/),
      overall: { samples: 1, answered: 1 },
    });
    // and the samples are the first three test prompts with the provisioned model's answers: the emulator answers a
    // prompt it was trained on with that record's completion, and any other with one of its training completions
    const out = await env.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: r.evaluation!.result!.samplesKey }));
    const text = await out.Body!.transformToString();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.prompt)).toEqual(test.slice(0, 3).map((t) => t.prompt));
    expect(lines.map((l) => l.reference)).toEqual(test.slice(0, 3).map((t) => t.completion));
    expect(lines[0]!.modelOutput).toBe(train[0]!.completion);
    expect(lines[1]!.modelOutput).toBe(train[1]!.completion);
    expect(train.map((t) => t.completion)).toContain(lines[2]!.modelOutput);
    // which is what the run report reads
    expect(readJsonLines(EvaluationSample, text, r.evaluation!.result!.samplesKey)).toHaveLength(3);
    // and no judge was asked: it is off unless configured
    expect(r.evaluation?.result?.judge).toBeUndefined();
    expect(r.evaluation?.result?.scores?.overall.judge).toBeUndefined();
    expect(lines.some((l) => 'judge' in l)).toBe(false);
    expect(await objectText('runs/ft-eval/evaluation/judge.json')).toBeUndefined();
  });
});

const objectText = async (key: string): Promise<string | undefined> => {
  try {
    const out = await env.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return await out.Body!.transformToString();
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
};

describe('with a judge model configured, the judge grades every scored answer once', () => {
  it('records the cost estimate and the grades on the run, the samples and scores.json, the same after redelivery', async () => {
    // given a prepared run with four held-out prompts, one of them a training prompt, and Claude 3 Haiku as the judge
    const train = records(40);
    const test = [...records(1), ...records(3, 900)];
    const judge = { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' };
    const config = titan({ provisioning: { evaluateSamples: 4 }, evaluation: { baseModel: 'never', judge } });
    const prepared = await givenPreparedRun(env, 'ft-judge', config, { train, validation: records(8, 100), test });
    await send(env, 'submit', prepared);
    // when the handlers run until the run ends, every message delivered twice
    await drive(env, handlers, inStatus('ft-judge', 'succeeded', 'failed'), { beforeInvoke: () => 'duplicate' });
    // then the judge graded the three answers that are scored (the training prompt is not), each once
    const r = await run('ft-judge');
    expect(r.status).toBe('succeeded');
    const result = r.evaluation!.result!;
    expect(result.judge).toMatchObject({ modelId: judge.modelId, calls: 3 });
    expect(result.judge?.skipped).toBeUndefined();
    // and its cost was estimated before the calls, from the catalog's unverified on-demand prices
    expect(result.judge?.estimate).toMatchObject({ samples: 3, outputTokens: 3 * 64, unconfirmed: true });
    expect(result.judge?.estimate.usd).toBeGreaterThan(0);
    expect(result.judge?.estimate.note).toMatch(/UNVERIFIED/);
    // and the run says the grades are the emulator's rule, not a model's opinion
    expect(result.judge?.emulated).toMatch(/deterministic rule, not a model's opinion/);
    expect(result.scores?.overall.judge).toMatchObject({ asked: 3, graded: 3, malformed: 0 });
    const samples = readJsonLines(EvaluationSample, (await objectText(result.samplesKey))!, result.samplesKey);
    expect(samples[0]).toMatchObject({ seenInTraining: true });
    expect(samples[0]!.judge).toBeUndefined();
    for (const s of samples.slice(1)) expect(s.judge).toMatchObject({ status: 'graded' });
    const scores = EvaluationScores.parse(JSON.parse((await objectText(result.scoresKey!))!));
    expect(scores.judge).toEqual(result.judge);
    expect(scores.overall.judge).toEqual(result.scores?.overall.judge);
    const stored = JudgeGrades.parse(JSON.parse((await objectText('runs/ft-judge/evaluation/judge.json'))!));
    expect(stored.grades).toHaveLength(3);

    // when the evaluation is asked again of the same answers (a redelivery after a crash before the run moved on)
    const again = await judgeAnswers(
      r,
      samples.map(({ judge: _, ...s }) => s),
      {
        bedrock: { invokeText: () => Promise.reject(new Error('the judge must not be asked again')) },
        objects: {
          getText: (b: string, k: string) => objectTextIn(b, k),
          putText: () => Promise.reject(new Error('no new grades')),
        },
        settings: { artifactsBucket: BUCKET },
      } as unknown as Parameters<typeof judgeAnswers>[2],
    );
    // then the stored grades are reused: no call, the same record and grades, the cost not doubled
    expect(again).toMatchObject({ kind: 'judged', judge: result.judge });
    expect(again.kind === 'judged' && again.lines.map((l) => l.judge)).toEqual(samples.map((l) => l.judge));
  });

  /** A run with two test records, judged by Claude 3 Haiku with `judge`'s settings, driven to its end. */
  async function judgedRun(runId: string, judge: { maxTokens?: number; maxUsd?: number }) {
    const modelId = 'anthropic.claude-3-haiku-20240307-v1:0';
    const evaluation = { baseModel: 'never' as const, judge: { modelId, ...judge } };
    const config = titan({ provisioning: { evaluateSamples: 2 }, evaluation });
    const prepared = await givenPreparedRun(env, runId, config, {
      train: records(40),
      validation: records(8, 100),
      test: records(2, 900),
    });
    await send(env, 'submit', prepared);
    await drive(env, handlers, inStatus(runId, 'succeeded', 'failed'));
    return run(runId);
  }

  it('a token cap too small for the grade line leaves malformed grades, recorded as such and not averaged', async () => {
    const r = await judgedRun('ft-judge-cut', { maxTokens: 3 });
    expect(r.status).toBe('succeeded');
    expect(r.evaluation?.result?.scores?.overall.judge).toEqual({
      asked: 2,
      graded: 0,
      malformed: 2,
      correctness: null,
      japanese: null,
    });
    expect(r.evaluation?.result?.warning).toMatch(/gave no grade for 2 of 2 answers/);
    const samples = readJsonLines(
      EvaluationSample,
      (await objectText(r.evaluation!.result!.samplesKey))!,
      r.evaluation!.result!.samplesKey,
    );
    for (const s of samples) expect(s.judge).toMatchObject({ status: 'malformed', reply: expect.any(String) });
  });

  it('an estimate above evaluation.judge.maxUsd makes no judge call, and the run says why', async () => {
    const r = await judgedRun('ft-judge-cap', { maxUsd: 0 });
    expect(r.status).toBe('succeeded');
    expect(r.evaluation?.result?.judge).toMatchObject({ calls: 0, skipped: expect.stringMatching(/maxUsd/) });
    expect(r.warnings?.join('\n')).toMatch(/the judge .* was not asked: its estimated cost/);
    expect(await objectText('runs/ft-judge-cap/evaluation/judge.json')).toBeUndefined();
  });
});

const objectTextIn = async (bucket: string, key: string): Promise<string | undefined> => {
  expect(bucket).toBe(BUCKET);
  return objectText(key);
};
