import { evaluateModel } from '../../../services/evaluate/evaluate';
import { observeJob } from '../../../services/monitor/monitor';
import { pollThroughput, provisionModel } from '../../../services/provision/provision';
import { submitJob } from '../../../services/submit/submit';
import type { ScoreSummary } from '../../../shared/artifacts';
import type { RunConfigInput } from '../../../shared/config/run-config';
import { decideGate } from '../../../shared/evaluation/gate';
import type { RunStatusChanged } from '../../../shared/messages/notifications';
import { NotifyingRunStore } from '../../../shared/runs/notifying-run-store';
import { BedrockCallError } from '../../../shared/orchestration/ports';
import { makeRun, makeWorld, putPrepared } from '../../helpers/orchestration/fakes';
import { baseInferenceId } from '../../../services/evaluate/base';
import { EvaluationSample, EvaluationScores, readJsonLines } from '../../../shared/artifacts';

const RULE = { appliesTo: 'every-run', minJapaneseRatio: 0.9, overlapAboveBase: true, deleteModels: false } as const;
const summary = (patch: Partial<ScoreSummary>): ScoreSummary => ({
  samples: 10,
  answered: 10,
  japaneseRatio: 1,
  meanChars: 40,
  meanReferenceChars: 40,
  lengthRatio: 1,
  overlong: 0,
  countRequests: 0,
  countMet: 0,
  formatCompliance: null,
  overlap: 30,
  ...patch,
});

describe('decideGate', () => {
  test('keeps a model that answers in Japanese and overlaps more than the base model', () => {
    expect(decideGate(summary({ japaneseRatio: 0.9, overlap: 31 }), summary({ overlap: 25 }), RULE)).toEqual({
      decision: 'keep',
      reasons: ['Japanese answers 0.900 >= 0.900', "overlap 31 > base model's 25"],
    });
  });

  test('deletes one that answers in Japanese too rarely, or overlaps no more than the base model', () => {
    expect(decideGate(summary({ japaneseRatio: 0.6 }), summary({ overlap: 25 }), RULE)).toEqual({
      decision: 'delete',
      reasons: ['Japanese answers 0.600 < 0.900', "overlap 30 > base model's 25"],
    });
    expect(decideGate(summary({ overlap: 25 }), summary({ overlap: 25 }), RULE).decision).toBe('delete');
  });

  test('without base scores the overlap is not compared, and the reasons say so', () => {
    expect(decideGate(summary({}), undefined, RULE)).toEqual({
      decision: 'keep',
      reasons: ['Japanese answers 1 >= 0.900', 'overlap not compared: no base model scores'],
    });
    expect(decideGate(summary({}), undefined, { ...RULE, overlapAboveBase: false }).reasons).toHaveLength(1);
  });

  test('a model that answered nothing loses', () => {
    expect(decideGate(summary({ answered: 0, japaneseRatio: null, overlap: null }), undefined, RULE)).toEqual({
      decision: 'delete',
      reasons: ['the model answered none of the evaluation prompts'],
    });
    expect(decideGate(undefined, undefined, RULE).decision).toBe('delete');
  });
});

/** Runs trained and provisioned in one world; the fake model of `english` runs answers in English. */
async function givenEvaluating(ids: string[], english: string[], config: RunConfigInput, parentRunId?: string) {
  const w = makeWorld();
  const arns = new Map<string, string>();
  for (const id of ids) {
    const run = makeRun(id, { provisioning: { evaluateSamples: 4 }, ...config });
    run.stages[0]!.prepare.counts!.test = 4;
    run.stages[0]!.prepare.split!.test.records = 4;
    if (parentRunId) run.parentRunId = parentRunId;
    w.runs.items.set(id, run);
    putPrepared(w.objects, id, { test: 4 });
    await submitJob(id, { kind: 'prepared', manifestKey: `runs/${id}/stages/0/manifest.json`, stage: 0 }, w.deps);
    const job = w.bedrock.complete(`btp-${id}-s0-a1`);
    await observeJob({ kind: 'poll', runId: id, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps);
    await provisionModel(id, job.outputModelArn!, w.deps);
    const pt = w.bedrock.live().find((t) => !arns.has(t.arn) && ![...arns.values()].includes(t.arn))!;
    pt.status = 'InService';
    expect(await pollThroughput(id, pt.arn, 1, w.deps)).toBe('in-service');
    arns.set(id, pt.arn);
  }
  const englishArns = new Set(english.map((id) => arns.get(id)));
  w.bedrock.answer = (modelId, prompt) => (englishArns.has(modelId) ? 'I do not know.' : `答え: ${prompt}`);
  return { w, arns };
}

describe('the gate in the evaluate step', () => {
  const gateConfig = { evaluation: { gate: { appliesTo: 'every-run' } } } as const;

  test("deletes exactly the losers' throughput as their evaluation ends; a redelivered message deletes nothing more", async () => {
    const { w, arns } = await givenEvaluating(['v1', 'v2', 'v3'], ['v2'], gateConfig);
    const notified: RunStatusChanged[] = [];
    const deps = {
      ...w.deps,
      runs: new NotifyingRunStore(w.runs, async (m) => void notified.push(m as RunStatusChanged)),
    };
    for (const [id, arn] of arns) await evaluateModel(id, arn, deps);
    // then only v2's throughput is gone, and each decision is on its run with its reasons
    expect(w.bedrock.live().map((t) => t.arn)).toEqual([arns.get('v1'), arns.get('v3')]);
    const v1 = (await w.runs.get('v1'))!;
    const v2 = (await w.runs.get('v2'))!;
    expect(v1.gate).toMatchObject({ decision: 'keep', reasons: ['Japanese answers 1 >= 0.900', expect.any(String)] });
    expect(v1.throughputExpiresAt).toBeDefined(); // a kept throughput keeps its time to live
    expect(v2.gate).toMatchObject({ decision: 'delete', reasons: ['Japanese answers 0 < 0.900', expect.any(String)] });
    expect(v2.gate?.throughputDeletedAt).toBeDefined();
    expect(v2.throughputExpiresAt).toBeUndefined();
    expect(v2.status).toBe('succeeded');
    expect(w.runs.eventTypes('v2')).toEqual(expect.arrayContaining(['evaluation.done', 'gate.throughput-deleted']));
    // and notified with the run's success
    expect(notified.map((m) => [m.runId, m.payload.to, m.payload.gate?.decision])).toEqual([
      ['v1', 'succeeded', 'keep'],
      ['v2', 'succeeded', 'delete'],
      ['v3', 'succeeded', 'keep'],
    ]);
    expect(notified[1]!.payload.gate?.reasons[0]).toBe('Japanese answers 0 < 0.900');
    // when every message is delivered again
    const deletesBefore = w.bedrock.calls.filter((c) => c === 'deleteThroughput').length;
    for (const [id, arn] of arns) expect(await evaluateModel(id, arn, deps)).toMatch(/duplicate|stale/);
    expect(notified).toHaveLength(3);
    // then nothing more is deleted or invoked
    expect(w.bedrock.calls.filter((c) => c === 'deleteThroughput').length).toBe(deletesBefore);
    expect(deletesBefore).toBe(1);
    expect(w.bedrock.live().map((t) => t.arn)).toEqual([arns.get('v1'), arns.get('v3')]);
    expect(w.runs.eventTypes('v2').filter((t) => t === 'gate.throughput-deleted')).toHaveLength(1);
  });

  test('a deletion that failed after the decision is finished by the redelivered message', async () => {
    const { w, arns } = await givenEvaluating(['v1'], ['v1'], gateConfig);
    w.bedrock.failNext.deleteThroughput = [new BedrockCallError('transient', 'InternalServerException', 'boom')];
    await expect(evaluateModel('v1', arns.get('v1')!, w.deps)).rejects.toThrow('boom');
    expect((await w.runs.get('v1'))!.gate).toMatchObject({ decision: 'delete' });
    expect(w.bedrock.live()).toHaveLength(1);
    // the message comes back
    expect(await evaluateModel('v1', arns.get('v1')!, w.deps)).toBe('duplicate');
    expect(w.bedrock.live()).toHaveLength(0);
    expect((await w.runs.get('v1'))!.gate?.throughputDeletedAt).toBeDefined();
  });

  test("deletes the loser's custom model too when configured, once", async () => {
    const { w, arns } = await givenEvaluating(['v1', 'v2'], ['v1'], {
      evaluation: { gate: { appliesTo: 'every-run', deleteModels: true } },
    });
    for (const [id, arn] of arns) await evaluateModel(id, arn, w.deps);
    for (const [id, arn] of arns) await evaluateModel(id, arn, w.deps);
    const v1 = (await w.runs.get('v1'))!;
    expect(w.bedrock.deletedModels).toEqual([v1.modelArn]);
    expect(v1.gate?.modelDeletedAt).toBeDefined();
  });

  test("judges an experiment's variants by default", async () => {
    const { w, arns } = await givenEvaluating(['v1', 'v2'], ['v2'], {}, 'experiment');
    for (const [id, arn] of arns) await evaluateModel(id, arn, w.deps);
    expect((await w.runs.get('v1'))!.gate?.decision).toBe('keep');
    expect((await w.runs.get('v2'))!.gate?.decision).toBe('delete');
    expect(w.bedrock.live().map((t) => t.arn)).toEqual([arns.get('v1')]);
  });

  test('judges no single run by default: the gate is for the variants of an experiment', async () => {
    const { w, arns } = await givenEvaluating(['v1'], ['v1'], {});
    await evaluateModel('v1', arns.get('v1')!, w.deps);
    expect((await w.runs.get('v1'))!.gate).toBeUndefined();
    expect(w.bedrock.live()).toHaveLength(1);
  });
});

describe('the comparison with the base model', () => {
  /** The fake test set's answers: `答え 20x: テストです。` for `質問 20x: これは何ですか？`. */
  const reference = (prompt: string) => prompt.replace('質問', '答え').replace('これは何ですか？', 'テストです。');

  test('asks the base model the same prompts once per experiment, and keeps only a variant that overlaps more', async () => {
    const { w, arns } = await givenEvaluating(['v1', 'v2'], [], {}, 'experiment');
    w.bedrock.answer = (modelId, prompt) => (modelId === arns.get('v1') ? reference(prompt) : 'わかりません。');
    w.bedrock.baseAnswer = () => 'わかりません。';
    for (const [id, arn] of arns) expect(await evaluateModel(id, arn, w.deps)).toBe('evaluated');
    const [v1, v2] = [(await w.runs.get('v1'))!, (await w.runs.get('v2'))!];
    const baseId = baseInferenceId(v1);
    // the base model got the four held-out prompts once: the second variant reads its scores back
    const toBase = w.bedrock.invocations.filter((i) => i.modelId === baseId);
    expect(toBase.map((i) => i.prompt)).toEqual([0, 1, 2, 3].map((i) => `質問 ${200 + i}: これは何ですか？`));
    expect(v1.evaluation?.result?.base).toEqual(v2.evaluation?.result?.base);
    const base = v1.evaluation!.result!.base!;
    expect(base).toMatchObject({
      modelId: baseId,
      scoresKey: expect.stringMatching(/^runs\/experiment\/evaluation\/base\//),
    });
    const file = EvaluationScores.parse(JSON.parse(w.objects.files.get(`artifacts/${base.scoresKey}`)!));
    expect(file).toMatchObject({ model: { kind: 'base', id: baseId }, overall: base.overall });
    const samples = readJsonLines(
      EvaluationSample,
      w.objects.files.get(`artifacts/${file.samplesKey}`)!,
      file.samplesKey,
    );
    expect(samples.map((s) => [s.prompt, s.reference, s.modelOutput])).toEqual(
      [0, 1, 2, 3].map((i) => [`質問 ${200 + i}: これは何ですか？`, `答え ${200 + i}: テストです。`, 'わかりません。']),
    );
    // the variant that gives the references overlaps more than the base model; the one that answers as it does not
    expect(v1.gate).toMatchObject({
      decision: 'keep',
      reasons: [expect.any(String), expect.stringMatching(/^overlap 100 > base model's \d/)],
    });
    expect(v2.gate).toMatchObject({
      decision: 'delete',
      reasons: [expect.any(String), expect.stringMatching(/not above base model's/)],
    });
    expect(w.bedrock.live().map((t) => t.arn)).toEqual([arns.get('v1')]);
  });

  test('a base model that cannot be invoked leaves the overlap uncompared, and the run says why', async () => {
    const { w, arns } = await givenEvaluating(['v1'], [], {}, 'experiment');
    w.bedrock.baseAnswer = () => {
      throw new BedrockCallError(
        'not-found',
        'ResourceNotFoundException',
        'This model version has reached the end of its life.',
      );
    };
    expect(await evaluateModel('v1', arns.get('v1')!, w.deps)).toBe('partial');
    const v1 = (await w.runs.get('v1'))!;
    expect(v1.gate).toMatchObject({
      decision: 'keep',
      reasons: [expect.any(String), 'overlap not compared: no base model scores'],
    });
    expect(v1.evaluation?.result?.base).toMatchObject({ warning: expect.stringMatching(/end of its life/) });
    expect(v1.warnings?.join('\n')).toMatch(/the base model .* could not answer, so nothing is compared with it/);
  });

  test('a throttled base model is asked again after a delay, as the run model is', async () => {
    const { w, arns } = await givenEvaluating(['v1'], [], {}, 'experiment');
    let throttles = 1;
    w.bedrock.baseAnswer = () => {
      if (throttles-- > 0) throw new BedrockCallError('throttled', 'ThrottlingException', 'slow down');
      return 'わかりません。';
    };
    expect(await evaluateModel('v1', arns.get('v1')!, w.deps)).toBe('throttled');
    expect(w.take('evaluation.requested').at(-1)).toMatchObject({ message: { payload: { retry: 1 } } });
    expect(await evaluateModel('v1', arns.get('v1')!, w.deps, { retry: 1 })).toBe('evaluated');
    expect((await w.runs.get('v1'))!.evaluation?.result?.base?.overall).toBeDefined();
  });

  test('is not asked when the gate does not judge the run, unless configured', async () => {
    const single = await givenEvaluating(['v1'], [], {});
    await evaluateModel('v1', single.arns.get('v1')!, single.w.deps);
    expect((await single.w.runs.get('v1'))!.evaluation?.result?.base).toBeUndefined();
    const always = await givenEvaluating(['v1'], [], { evaluation: { baseModel: 'always' } });
    await evaluateModel('v1', always.arns.get('v1')!, always.w.deps);
    expect((await always.w.runs.get('v1'))!.evaluation?.result?.base?.overall).toBeDefined();
  });
});
