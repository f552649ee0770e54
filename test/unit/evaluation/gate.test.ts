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
