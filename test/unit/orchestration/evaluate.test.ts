import { createHash } from 'node:crypto';
import { rubricParts } from '../../../shared/evaluation/judge';
import { evaluateModel, MAX_TOKEN_COUNT, testPrompt } from '../../../services/evaluate/evaluate';
import { submitJob } from '../../../services/submit/submit';
import { observeJob } from '../../../services/monitor/monitor';
import { pollThroughput, provisionModel } from '../../../services/provision/provision';
import { sweep } from '../../../services/sweeper/sweeper';
import type { RunConfigInput } from '../../../shared/config/run-config';
import { evaluationPlan } from '../../../shared/orchestration/evaluation';
import { BedrockCallError } from '../../../shared/orchestration/ports';
import { EvaluationSample, EvaluationScores, readJsonLines, testLineTail } from '../../../shared/artifacts';
import { scoreSample } from '../../../shared/evaluation/scores';
import { makeRun, makeWorld, putPrepared } from '../../helpers/orchestration/fakes';

const RUN = 'run-eval';
const SAMPLES_KEY = `runs/${RUN}/evaluation/samples.jsonl`;
const SCORES_KEY = `runs/${RUN}/evaluation/scores.json`;
const prepared = { kind: 'prepared', manifestKey: `runs/${RUN}/stages/0/manifest.json`, stage: 0 } as const;

/** A prepared run with `test` held-out records, as the split leaves it. */
function given(config: RunConfigInput = {}, test = 8) {
  const w = makeWorld();
  const run = makeRun(RUN, config);
  run.stages[0]!.prepare.counts!.test = test;
  run.stages[0]!.prepare.split!.test.records = test;
  w.runs.items.set(RUN, run);
  putPrepared(w.objects, RUN, { test });
  return w;
}

/** Submit, train, buy throughput and see it in service: the run leaves `provisioning`. */
async function toInService(w: ReturnType<typeof given>) {
  await submitJob(RUN, prepared, w.deps);
  const job = w.bedrock.complete(`btp-${RUN}-s0-a1`);
  await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps);
  await provisionModel(RUN, job.outputModelArn!, w.deps);
  const pt = w.bedrock.live()[0]!;
  pt.status = 'InService';
  expect(await pollThroughput(RUN, pt.arn, 1, w.deps)).toBe('in-service');
  return pt;
}

const run = async (w: ReturnType<typeof makeWorld>) => (await w.runs.get(RUN))!;
const transitions = (w: ReturnType<typeof makeWorld>) =>
  w.runs.events.filter((e) => e.from !== e.to && e.from).map((e) => `${e.from}->${e.to}`);
const sampleLines = (w: ReturnType<typeof makeWorld>) =>
  (w.objects.files.get(`artifacts/${SAMPLES_KEY}`) ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('provision hands an in-service model to evaluate', () => {
  it('moves the run to evaluating and asks for an evaluation of its throughput', async () => {
    // given a run with held-out test records
    const w = given();
    // when its throughput comes into service
    const pt = await toInService(w);
    // then the run is evaluating, and one evaluation.requested went to the evaluate queue
    const r = await run(w);
    expect(r.status).toBe('evaluating');
    expect(r.evaluation).toMatchObject({
      status: 'pending',
      plan: { testKey: `runs/${RUN}/stages/0/prepared/test.jsonl`, samples: 5 },
    });
    const [request, ...more] = w.take('evaluation.requested');
    expect(more).toEqual([]);
    expect(request).toMatchObject({
      queueUrl: 'q://evaluate',
      message: { runId: RUN, payload: { provisionedModelArn: pt.arn, retry: 0 } },
    });
    // and a redelivered poll (the first delivery may have died between the transition and the send) asks again
    expect(await pollThroughput(RUN, pt.arn, 1, w.deps)).toBe('in-service');
    const again = w.take('evaluation.requested');
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ queueUrl: request!.queueUrl, message: { payload: request!.message.payload } });
    expect((await run(w)).version).toBe(r.version);
  });

  it('a redelivered poll after the evaluation started changes nothing', async () => {
    const w = given();
    const pt = await toInService(w);
    const [request] = w.take('evaluation.requested');
    expect(await evaluateModel(RUN, pt.arn, w.deps, { retry: 0 })).toBe('evaluated');
    expect(await pollThroughput(RUN, pt.arn, 1, w.deps)).toBe('stale');
    expect(w.take('evaluation.requested')).toEqual([]);
    expect(request).toBeDefined();
  });

  it('succeeds at once when evaluateSamples is 0', async () => {
    const w = given({ provisioning: { evaluateSamples: 0 } });
    await toInService(w);
    expect((await run(w)).status).toBe('succeeded');
    expect(w.take('evaluation.requested')).toEqual([]);
    expect(transitions(w)).toContain('provisioning->succeeded');
  });

  it('succeeds at once when the run has no test records', async () => {
    const w = given({}, 0);
    await toInService(w);
    expect((await run(w)).status).toBe('succeeded');
    expect(w.take('evaluation.requested')).toEqual([]);
  });
});

describe('evaluate', () => {
  it('sends the first test prompts to the provisioned model, writes the samples the report shows, and succeeds', async () => {
    const w = given({ provisioning: { evaluateSamples: 3 } });
    const pt = await toInService(w);
    // when the evaluation is requested
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('evaluated');
    // then the model got the first three test prompts, at temperature 0 (the adapter's) and the token cap
    expect(w.bedrock.invocations).toEqual(
      [0, 1, 2].map((i) => ({
        modelId: pt.arn,
        prompt: `質問 ${200 + i}: これは何ですか？`,
        maxTokenCount: MAX_TOKEN_COUNT,
      })),
    );
    // and samples.jsonl holds prompt, expected completion and the model's answer, one line per record
    const lines = sampleLines(w);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({
      index: 0,
      kind: 'prompt-completion',
      prompt: '質問 200: これは何ですか？',
      reference: '答え 200: テストです。',
      modelOutput: 'answer to 質問 200: これは何ですか？',
      source: 'test',
      scores: scoreSample(
        {
          prompt: '質問 200: これは何ですか？',
          reference: '答え 200: テストです。',
          answer: 'answer to 質問 200: これは何ですか？',
        },
        { overlongRatio: 2 },
      ),
    });
    // which the report reads through the same schema
    expect(readJsonLines(EvaluationSample, w.objects.files.get(`artifacts/${SAMPLES_KEY}`)!, SAMPLES_KEY)).toEqual(
      lines,
    );
    // and the run succeeded through evaluating, with the samples recorded
    const r = await run(w);
    expect(r.status).toBe('succeeded');
    expect(r.evaluation?.result).toMatchObject({ samplesKey: SAMPLES_KEY, samples: 3, failed: 0 });
    expect((r.warnings ?? []).filter((x) => x.startsWith('evaluation'))).toEqual([]);
    expect(r.evaluation).toMatchObject({
      status: 'done',
      attempts: 1,
      result: { samplesKey: SAMPLES_KEY, samples: 3, failed: 0 },
    });
    expect(transitions(w).slice(-2)).toEqual(['provisioning->evaluating', 'evaluating->succeeded']);
  });

  it('scores every answer, proves the test prompts held out, and keeps the scores on the run and in scores.json', async () => {
    const w = given({ provisioning: { evaluateSamples: 4 }, evaluation: { maxTokenCount: 64 } });
    const pt = await toInService(w);
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('evaluated');
    // the configured cap went with every prompt
    expect(w.bedrock.invocations.map((i) => i.maxTokenCount)).toEqual([64, 64, 64, 64]);
    const r = await run(w);
    const file = EvaluationScores.parse(JSON.parse(w.objects.files.get(`artifacts/${SCORES_KEY}`)!));
    // the held-out proof: the four test prompts were looked for in all 20 training and 5 validation records
    expect(file.heldOut).toEqual({
      testKey: `runs/${RUN}/stages/0/prepared/test.jsonl`,
      checked: 4,
      against: [
        { key: `runs/${RUN}/stages/0/prepared/train.jsonl`, records: 20 },
        { key: `runs/${RUN}/stages/0/prepared/validation.jsonl`, records: 5 },
      ],
      overlapping: 0,
      overlappingIndexes: [],
    });
    expect(file).toMatchObject({ runId: RUN, model: { kind: 'custom', id: pt.arn }, maxTokenCount: 64 });
    expect(file.overall).toMatchObject({ samples: 4, answered: 4, japaneseRatio: 1, overlong: 0 });
    expect(Object.keys(file.byCategory)).toEqual(['test']);
    expect(r.evaluation?.result).toMatchObject({
      scoresKey: SCORES_KEY,
      scores: { overall: file.overall, byCategory: file.byCategory },
      heldOut: file.heldOut,
    });
  });

  it('flags a test prompt that is also a training prompt and leaves it out of the scores', async () => {
    const w = given({ provisioning: { evaluateSamples: 3 } });
    const train = `runs/${RUN}/stages/0/prepared/train.jsonl`;
    const testLine = w.objects.files.get(`artifacts/runs/${RUN}/stages/0/prepared/test.jsonl`)!.split('\n')[1]!;
    // the same prompt with another completion is still a leak
    const leaked = JSON.stringify({ ...JSON.parse(testLine), completion: '別の答え' });
    w.objects.put('artifacts', train, `${w.objects.files.get(`artifacts/${train}`)!}${leaked}\n`);
    const pt = await toInService(w);
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('partial');
    const r = await run(w);
    expect(r.evaluation?.result?.heldOut).toMatchObject({ checked: 3, overlapping: 1, overlappingIndexes: [1] });
    expect(r.evaluation?.result?.scores?.overall).toMatchObject({ samples: 2, answered: 2 });
    expect(sampleLines(w).map((l) => l.seenInTraining)).toEqual([undefined, true, undefined]);
    expect(r.warnings?.join()).toMatch(/1 test prompt\(s\) are in the training or validation set/);
  });

  it('is idempotent: concurrent copies write the same file and one transition; a late copy does nothing', async () => {
    const w = given();
    const pt = await toInService(w);
    const outcomes = await Promise.all([evaluateModel(RUN, pt.arn, w.deps), evaluateModel(RUN, pt.arn, w.deps)]);
    expect(outcomes.sort()).toEqual(['duplicate', 'evaluated']);
    expect(sampleLines(w)).toHaveLength(5);
    expect(w.runs.eventTypes(RUN).filter((t) => t === 'evaluation.done')).toHaveLength(1);
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('stale');
    // and a request for another throughput than the run's is stale too
    expect(await evaluateModel(RUN, 'arn:aws:bedrock:us-east-1:000000000000:provisioned-model/other', w.deps)).toBe(
      'stale',
    );
  });

  it('a copy still asking when another finished and its throughput went writes nothing over the samples', async () => {
    const w = given();
    const pt = await toInService(w);
    // The first copy waits at its first prompt until the second has finished.
    const invoke = w.bedrock.invokeText.bind(w.bedrock);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    w.bedrock.invokeText = async (...args: Parameters<typeof invoke>) => {
      if (++calls === 1) await held;
      return invoke(...args);
    };
    const late = evaluateModel(RUN, pt.arn, w.deps);
    while (calls === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('evaluated');
    const written = sampleLines(w);
    // then the throughput is deleted (the gate, an expiry), and the first copy's prompts are answered "not found"
    w.bedrock.throughputs.get(pt.arn)!.deleted = true;
    release();
    expect(await late).toBe('duplicate');
    expect(sampleLines(w)).toEqual(written);
    expect(written.every((l) => l.modelOutput !== undefined)).toBe(true);
    expect(w.runs.eventTypes(RUN).filter((t) => t === 'evaluation.done')).toHaveLength(1);
  });

  it('records a model that cannot be invoked as a warning and still succeeds', async () => {
    const w = given();
    const pt = await toInService(w);
    w.bedrock.failNext.invokeText = [
      new BedrockCallError('access-denied', 'AccessDeniedException', 'not authorized to invoke'),
    ];
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('partial');
    const r = await run(w);
    expect(r.status).toBe('succeeded');
    expect(r.evaluation?.result).toMatchObject({
      samplesKey: SAMPLES_KEY,
      samples: 0,
      failed: 5,
      warning: expect.stringMatching(/could not answer 5 of 5 .*AccessDeniedException/),
    });
    expect(r.warnings).toContainEqual(expect.stringMatching(/^evaluation: .*not authorized/));
    // access denied holds for every prompt: the model was asked once
    expect(w.bedrock.calls.filter((c) => c === 'invokeText')).toHaveLength(1);
    expect(sampleLines(w).every((l) => l.modelOutput === undefined && /AccessDenied/.test(String(l.error)))).toBe(true);
  });

  it('keeps going past a prompt the model refuses (ValidationException)', async () => {
    const w = given();
    const pt = await toInService(w);
    w.bedrock.failNext.invokeText = [new BedrockCallError('validation', 'ValidationException', 'Input is too long')];
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('partial');
    expect((await run(w)).evaluation?.result).toMatchObject({ samples: 4, failed: 1 });
    expect(sampleLines(w)[0]).toMatchObject({ index: 0, error: 'ValidationException: Input is too long' });
    expect(sampleLines(w)[1]).toHaveProperty('modelOutput');
  });

  it('backs off on throttling with a delayed copy, then evaluates', async () => {
    const w = given();
    const pt = await toInService(w);
    w.take();
    w.bedrock.failNext.invokeText = [new BedrockCallError('throttled', 'ThrottlingException', 'slow down')];
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('throttled');
    expect((await run(w)).status).toBe('evaluating');
    const [again] = w.take('evaluation.requested');
    expect(again!.message.payload).toEqual({ provisionedModelArn: pt.arn, retry: 1 });
    expect(again!.delaySeconds).toBeGreaterThan(0);
    expect(await evaluateModel(RUN, pt.arn, w.deps, { retry: 1 })).toBe('evaluated');
    expect((await run(w)).evaluation?.result).toMatchObject({ samples: 5, failed: 0 });
  });

  it('gives up after maxThrottleRetries with a warning instead of stranding the run', async () => {
    const w = given();
    const pt = await toInService(w);
    w.bedrock.failNext.invokeText = [new BedrockCallError('throttled', 'ThrottlingException', 'slow down')];
    expect(await evaluateModel(RUN, pt.arn, w.deps, { retry: w.deps.settings.maxThrottleRetries })).toBe('partial');
    expect(await run(w)).toMatchObject({
      status: 'succeeded',
      evaluation: { result: { samples: 0, failed: 5, warning: expect.stringMatching(/still throttled/) } },
    });
  });

  it('backs off on a transient error (a 5xx) as on throttling, then evaluates', async () => {
    const w = given();
    const pt = await toInService(w);
    w.take();
    w.bedrock.failNext.invokeText = [new BedrockCallError('transient', 'InternalServerException', 'oops')];
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('throttled');
    expect((await run(w)).status).toBe('evaluating');
    const [again] = w.take('evaluation.requested');
    expect(again!.message.payload).toEqual({ provisionedModelArn: pt.arn, retry: 1 });
    expect(await evaluateModel(RUN, pt.arn, w.deps, { retry: 1 })).toBe('evaluated');
  });

  it('lets an unknown error return the message to the queue', async () => {
    const w = given();
    const pt = await toInService(w);
    w.bedrock.failNext.invokeText = [new Error('socket hang up')];
    await expect(evaluateModel(RUN, pt.arn, w.deps)).rejects.toThrow('socket hang up');
    expect((await run(w)).status).toBe('evaluating');
  });
});

describe('the sweeper and a lost evaluation request', () => {
  it('re-sends evaluation.requested for a run left evaluating longer than any delay', async () => {
    const w = given();
    const pt = await toInService(w);
    w.take(); // the request is lost
    expect((await sweep(w.deps)).reevaluated).toEqual([]);
    w.advance(2 * 900 + 1);
    expect((await sweep(w.deps)).reevaluated).toEqual([RUN]);
    const [resent] = w.take('evaluation.requested');
    expect(resent).toMatchObject({
      queueUrl: 'q://evaluate',
      message: { payload: { provisionedModelArn: pt.arn, retry: 0 } },
    });
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('evaluated');
    expect((await sweep(w.deps)).reevaluated).toEqual([]);
  });
});

describe('scores per category of the held-out set', () => {
  /** A test set line as split writes it: the training record, then its category (testLineTail). */
  const testLine = (i: number, category?: string) =>
    `${JSON.stringify({ prompt: `質問 ${i}`, completion: `答え ${i}` }).slice(0, -1)}${testLineTail(category)}}`;
  const TEST_KEY = `artifacts/runs/${RUN}/stages/0/prepared/test.jsonl`;

  it('groups the samples by the category split put on each test line; one without a category counts under test', async () => {
    const w = given({ provisioning: { evaluateSamples: 5 } }, 5);
    const categories = ['open_qa', 'brainstorming', 'open_qa', undefined, 'say "hi"'];
    w.objects.files.set(TEST_KEY, categories.map((c, i) => `${testLine(i, c)}\n`).join(''));
    const pt = await toInService(w);
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('evaluated');
    const lines = readJsonLines(EvaluationSample, w.objects.files.get(`artifacts/${SAMPLES_KEY}`)!, SAMPLES_KEY);
    expect(lines.map((l) => l.category)).toEqual(categories);
    // the model was sent the record's prompt alone
    expect(w.bedrock.invocations.map((i) => i.prompt)).toEqual([0, 1, 2, 3, 4].map((i) => `質問 ${i}`));
    const scores = EvaluationScores.parse(JSON.parse(w.objects.files.get(`artifacts/${SCORES_KEY}`)!));
    expect(Object.keys(scores.byCategory)).toEqual(['brainstorming', 'open_qa', 'say "hi"', 'test']);
    expect(Object.values(scores.byCategory).map((s) => s.samples)).toEqual([1, 2, 1, 1]);
    expect((await run(w)).evaluation?.result?.scores?.byCategory.open_qa).toEqual(scores.byCategory.open_qa);
  });

  it('a test line whose category is not a string is kept with an error naming the file, line and field', async () => {
    const w = given({ provisioning: { evaluateSamples: 3 } }, 3);
    const bad = JSON.stringify({ prompt: '質問 1', completion: '答え 1', category: 5 });
    w.objects.files.set(TEST_KEY, [testLine(0, 'open_qa'), bad, testLine(2, 'open_qa')].join('\n'));
    const pt = await toInService(w);
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('partial');
    const lines = sampleLines(w);
    expect(lines.map((l) => l.modelOutput !== undefined)).toEqual([true, false, true]);
    expect(lines[1]!.error).toBe(
      `runs/${RUN}/stages/0/prepared/test.jsonl line 2 does not match its schema: category: ` +
        'Invalid input: expected string, received number',
    );
  });
});

describe("the user's prompt file", () => {
  const PROMPTS = [
    { prompt: '日本で一番高い山は？', reference: '富士山です。', category: 'open_qa' },
    { prompt: '趣味を5つ挙げてください。', category: 'brainstorming', maxTokenCount: 64 },
    { prompt: '要約してください。', input: '本文です。', reference: '要約です。', category: 'summarization' },
  ];
  const config = {
    provisioning: { evaluateSamples: 2 },
    evaluation: { promptFile: { key: 'inputs/prompts.jsonl' }, baseModel: 'always' as const },
  };

  it('is asked after the held-out prompts, in the training template, each scored in its category', async () => {
    const w = given(config, 2);
    w.objects.files.set('datasets/inputs/prompts.jsonl', PROMPTS.map((p) => JSON.stringify(p)).join('\n'));
    const pt = await toInService(w);
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('evaluated');
    const mine = w.bedrock.invocations.filter((i) => i.modelId === pt.arn);
    expect(mine.map((i) => [i.prompt, i.maxTokenCount])).toEqual([
      ['質問 200: これは何ですか？', MAX_TOKEN_COUNT],
      ['質問 201: これは何ですか？', MAX_TOKEN_COUNT],
      ['日本で一番高い山は？', MAX_TOKEN_COUNT],
      ['趣味を5つ挙げてください。', 64],
      ['入力:要約してください。\n知識:本文です。', MAX_TOKEN_COUNT],
    ]);
    const lines = readJsonLines(EvaluationSample, w.objects.files.get(`artifacts/${SAMPLES_KEY}`)!, SAMPLES_KEY);
    expect(lines.map((l) => [l.index, l.source, l.category ?? null])).toEqual([
      [0, 'test', null],
      [1, 'test', null],
      [2, 'prompts', 'open_qa'],
      [3, 'prompts', 'brainstorming'],
      [4, 'prompts', 'summarization'],
    ]);
    // the line without a reference says so, and has no score that needs one
    expect(lines[3]).toMatchObject({ noReference: true, reference: '', maxTokenCount: 64 });
    expect(lines[3]!.scores).toMatchObject({ requestedCount: 5 });
    expect(lines[3]!.scores!.overlap).toBeUndefined();
    expect(lines[2]!.scores!.overlap).toBeGreaterThanOrEqual(0);
    const scores = EvaluationScores.parse(JSON.parse(w.objects.files.get(`artifacts/${SCORES_KEY}`)!));
    expect(scores.promptFile).toEqual({
      bucket: 'datasets',
      key: 'inputs/prompts.jsonl',
      prompts: 3,
      sha256: createHash('sha256')
        .update(PROMPTS.map((p) => JSON.stringify(p)).join('\n'))
        .digest('hex'),
    });
    expect(Object.keys(scores.byCategory)).toEqual(['brainstorming', 'open_qa', 'summarization', 'test']);
    expect(scores.bySource.prompts).toMatchObject({ samples: 3, answered: 3, withoutReference: 1 });
    expect(scores.bySource.test!.withoutReference).toBeUndefined();
    // and the base model was asked the same five prompts with the same caps
    const base = w.bedrock.invocations.filter((i) => i.modelId !== pt.arn);
    expect(base.map((i) => [i.prompt, i.maxTokenCount])).toEqual(mine.map((i) => [i.prompt, i.maxTokenCount]));
    expect(Object.keys((await run(w)).evaluation!.result!.base!.byCategory!)).toEqual(Object.keys(scores.byCategory));
  });

  it('a prompt file broken after the run started is not asked, and the warning says why', async () => {
    const w = given(config, 2);
    w.objects.files.set('datasets/inputs/prompts.jsonl', `${JSON.stringify(PROMPTS[0])}\n{"prompt": "x"}`);
    const pt = await toInService(w);
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('partial');
    expect(sampleLines(w).map((l) => l.source)).toEqual(['test', 'test']);
    expect((await run(w)).evaluation!.result!.warning).toBe(
      'the prompt file changed since the run started (s3://datasets/inputs/prompts.jsonl line 2: field category: ' +
        'Invalid input: expected string, received undefined): its prompts were not asked',
    );
  });

  it("the judge grades the prompt file's answers first, then the held-out ones, at most maxSamples", async () => {
    // given a judge that may grade three answers of a run with two held-out prompts and three of the prompt file
    const judge = 'anthropic.claude-3-haiku-20240307-v1:0';
    const w = given({ ...config, evaluation: { ...config.evaluation, judge: { modelId: judge, maxSamples: 4 } } }, 2);
    w.objects.files.set('datasets/inputs/prompts.jsonl', PROMPTS.map((p) => JSON.stringify(p)).join('\n'));
    w.bedrock.baseAnswer = (modelId, prompt) =>
      modelId === judge ? (prompt.includes('要約') ? 'とても良い' : '{"correctness": 4, "japanese": 5}') : 'ベース';
    const pt = await toInService(w);
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('partial');
    // then the three prompts of the file were graded, and one held-out prompt
    const asked = w.bedrock.invocations.filter((i) => i.modelId === judge).map((i) => rubricParts(i.prompt)!.prompt);
    expect(asked).toEqual([
      '日本で一番高い山は？',
      '趣味を5つ挙げてください。',
      '入力:要約してください。\n知識:本文です。',
      '質問 200: これは何ですか？',
    ]);
    expect(sampleLines(w).map((l) => (l.judge as { status?: string } | undefined)?.status ?? null)).toEqual([
      'graded',
      null,
      'graded',
      'graded',
      'malformed',
    ]);
    // and the reply that was no grade line is kept as it came, and counted, not averaged
    const scores = EvaluationScores.parse(JSON.parse(w.objects.files.get(`artifacts/${SCORES_KEY}`)!));
    expect(sampleLines(w)[4]!.judge).toMatchObject({ status: 'malformed', reply: 'とても良い' });
    expect(scores.overall.judge).toEqual({ asked: 4, graded: 3, malformed: 1, correctness: 4, japanese: 5 });
    expect(scores.bySource.prompts!.judge).toMatchObject({ asked: 3, graded: 2, malformed: 1 });
    expect(scores.judge).toMatchObject({ modelId: judge, calls: 4, estimate: { samples: 4 } });
  });

  it('a prompt file changed since ingest checked it is not asked, even when it is still valid', async () => {
    // given a run whose prompt file ingest checked and recorded with its SHA-256
    const w = given(config, 2);
    const checked = PROMPTS.map((p) => JSON.stringify(p)).join('\n');
    const sha256 = createHash('sha256').update(checked).digest('hex');
    w.runs.items.get(RUN)!.promptFile = { bucket: 'datasets', key: 'inputs/prompts.jsonl', prompts: 3, sha256 };
    // when the file is replaced by another valid one before the model is evaluated
    w.objects.files.set('datasets/inputs/prompts.jsonl', JSON.stringify(PROMPTS[0]));
    const pt = await toInService(w);
    // then its prompts are not asked, and the warning names the change
    expect(await evaluateModel(RUN, pt.arn, w.deps)).toBe('partial');
    expect(sampleLines(w).map((l) => l.source)).toEqual(['test', 'test']);
    expect((await run(w)).evaluation!.result!.warning).toMatch(
      new RegExp(
        `^the prompt file s3://datasets/inputs/prompts\\.jsonl changed since the run started \\(SHA-256 [0-9a-f]{12}\\.\\.\\., checked ${sha256.slice(0, 12)}\\.\\.\\.\\): its prompts were not asked`,
      ),
    );
    // while the same file is asked
    const same = given(config, 2);
    same.runs.items.get(RUN)!.promptFile = { bucket: 'datasets', key: 'inputs/prompts.jsonl', prompts: 3, sha256 };
    same.objects.files.set('datasets/inputs/prompts.jsonl', checked);
    expect(await evaluateModel(RUN, (await toInService(same)).arn, same.deps)).toBe('evaluated');
    expect(sampleLines(same).filter((l) => l.source === 'prompts')).toHaveLength(3);
  });
});

describe('test prompts', () => {
  it('sends a fine-tuning record as it was trained, and the first half of a continued pre-training text', () => {
    expect(testPrompt(JSON.stringify({ prompt: 'p', completion: 'c' }))).toEqual({
      kind: 'prompt-completion',
      prompt: 'p',
      reference: 'c',
    });
    expect(testPrompt(JSON.stringify({ input: '富士山は日本で一番高い山' }))).toEqual({
      kind: 'continuation',
      prompt: '富士山は日本',
      reference: 'で一番高い山',
    });
    const long = testPrompt(JSON.stringify({ input: 'あ'.repeat(5000) }))!;
    expect([...long.prompt]).toHaveLength(1000);
    expect([...long.reference]).toHaveLength(1000);
    expect(testPrompt('{"text": 1}')).toBeUndefined();
  });

  it("evaluates the last stage of a chained run on that stage's test set", () => {
    const r = makeRun(RUN, { stages: [{}, { dataset: { key: 'datasets/ft.jsonl' } }] });
    const stage0 = r.stages[0]!;
    const file = (set: string) => ({
      key: `runs/${RUN}/stages/1/prepared/${set}.jsonl`,
      records: set === 'test' ? 2 : 10,
    });
    const split = {
      startedAt: r.createdAt,
      manifestKey: `runs/${RUN}/stages/1/manifest.json`,
      train: file('train'),
      validation: file('validation'),
      test: file('test'),
      rejects: file('rejects'),
    };
    r.stages = [stage0, { prepare: { status: 'done', split }, jobs: [] }];
    expect(evaluationPlan(r)).toEqual({ testKey: `runs/${RUN}/stages/1/prepared/test.jsonl`, samples: 2 });
    r.stages = [stage0];
    expect(evaluationPlan(r)).toBeUndefined(); // makeRun's counts: no test records in stage 0
  });
});
