import { startStack, type Stack } from '../../../local/stack';
import { chatPrompt, EMULATOR_NOTE } from '../../../cli/commands/chat';
import type { Io } from '../../../cli/io';
import { runCli } from '../../../cli/program';
import type { EvaluationSample } from '../../../shared/artifacts';
import { RunConfig } from '../../../shared/config/run-config';
import { scoreTable } from '../../../shared/evaluation/scores';
import { estimateJudgeCost } from '../../../shared/evaluation/judge';
import { scoredSample } from '../../helpers/evaluation';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { btp, seedRun, stackContext, type Fakes } from './cli-harness';

/** `btp chat`, `btp invoke` and `btp compare` on runs seeded in the local stack's table (Bedrock calls recorded). */
describe('btp chat / invoke / compare against the local stack', () => {
  let stack: Stack;
  const fakes: Fakes = { deleted: [], answers: [], invoked: [] };
  const cli = (...args: string[]) => btp(stack, fakes, ...args);

  const scored = (category: string, answer: string, reference: string, prompt = '質問') =>
    scoredSample(prompt, reference, answer, category);
  const evaluation = (lines: EvaluationSample[]) => {
    const t = scoreTable(lines);
    return {
      status: 'done' as const,
      attempts: 1,
      result: {
        samplesKey: 'k',
        samples: lines.length,
        failed: 0,
        scoresKey: 's',
        scores: { overall: t.overall, byCategory: t.byCategory },
      },
    };
  };

  beforeAll(async () => {
    stack = await startStack({ functions: 'none' });
    const store = new DynamoRunStore(
      DynamoDBDocumentClient.from(stack.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
      stack.tableName('RunsTable'),
    );
    const at = new Date().toISOString();
    await store.create(
      seedRun(stack, 'r-live', {
        status: 'succeeded',
        modelArn: 'arn:model/live',
        provisionedModelArn: 'arn:pt/live',
        throughputExpiresAt: at,
        evaluation: evaluation([
          scored('open_qa', '東京です。', '東京です。'),
          scored('brainstorming', '1. a\n2. b', '', '3つ挙げて'),
        ]),
        gate: { decision: 'keep', reasons: ['Japanese answers 1 >= 0.900'], decidedAt: at },
      }),
      { type: 'run.created' },
    );
    await store.create(
      seedRun(stack, 'r-gated', {
        status: 'succeeded',
        modelArn: 'arn:model/gated',
        provisionedModelArn: 'arn:pt/gated',
        provision: {
          status: 'done',
          attempts: 1,
          modelArn: 'arn:model/gated',
          modelUnits: 1,
          ttlHours: 2,
          deletedAt: at,
        },
        evaluation: evaluation([scored('open_qa', 'Tokyo.', '東京です。')]),
        gate: { decision: 'delete', reasons: ['Japanese answers 0 < 0.900'], decidedAt: at, throughputDeletedAt: at },
      }),
      { type: 'run.created' },
    );
    await store.create(seedRun(stack, 'r-training', { status: 'training' }), { type: 'run.created' });
    const based = evaluation([scored('open_qa', '東京です。', '東京です。')]);
    const base = scoreTable([scored('open_qa', 'わかりません。', '東京です。')]);
    await store.create(
      seedRun(stack, 'r-based', {
        status: 'succeeded',
        evaluation: {
          ...based,
          result: {
            ...based.result,
            emulated: 'Bedrock emulator: no model ran',
            base: { modelId: 'amazon.nova-micro-v1:0', scoresKey: 'b', ...base },
          },
        },
      }),
      { type: 'run.created' },
    );
    const judgedLines = [
      {
        ...scored('open_qa', '東京です。', '東京です。'),
        judge: { status: 'graded' as const, correctness: 5, japanese: 4 },
      },
      {
        ...scored('open_qa', 'Tokyo.', '東京です。'),
        judge: { status: 'malformed' as const, reason: 'x', reply: 'ok' },
      },
    ];
    const judged = evaluation(judgedLines);
    await store.create(
      seedRun(stack, 'r-judged', {
        status: 'succeeded',
        evaluation: {
          ...judged,
          result: {
            ...judged.result,
            judge: {
              modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
              estimate: estimateJudgeCost({
                modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
                prompts: ['採点して'],
                maxTokens: 64,
              }),
              calls: 2,
              emulated: 'Bedrock emulator: no model ran; the grades are the judge rule',
            },
          },
        },
      }),
      { type: 'run.created' },
    );
  }, 60_000);
  afterAll(() => stack?.stop());

  test('chat sends the prompt in the training template, with knowledge as 入力/知識, and prints the answer', async () => {
    fakes.invoked!.length = 0;
    const r = await cli('chat', 'r-live', '日本の首都は？', '--input', '日本の首都は東京です。', '--max-tokens', '64');
    expect(r.code).toBe(0);
    expect(fakes.invoked).toEqual([
      { modelId: 'arn:pt/live', prompt: '入力:日本の首都は？\n知識:日本の首都は東京です。' },
    ]);
    expect(r.stdout).toBe('answer to 入力:日本の首都は？\n知識:日本の首都は東京です。');
    expect(r.stderr).toContain(EMULATOR_NOTE);
  });

  test('invoke prints JSON for scripts', async () => {
    const r = await cli('invoke', 'arn:model/live', '富士山の高さは？');
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({
      runId: 'r-live',
      modelId: 'arn:pt/live',
      maxTokens: 512,
      prompt: '富士山の高さは？',
      answer: 'answer to 富士山の高さは？',
      note: EMULATOR_NOTE,
    });
  });

  test('chat reads the prompt from standard input, or line by line at a terminal', async () => {
    const run = async (input: NonNullable<Io['input']>) => {
      const out: string[] = [];
      const io: Io = {
        out: (t) => out.push(t),
        err: () => undefined,
        interactive: false,
        confirm: async () => false,
        input,
      };
      const code = await runCli(['chat', 'r-live'], { io, context: () => stackContext(stack, fakes) });
      return { code, out };
    };
    const piped = await run({ isTTY: false, readAll: async () => '  標準入力の質問\n', lines: async function* () {} });
    expect(piped).toEqual({ code: 0, out: ['answer to 標準入力の質問'] });
    const typed = await run({
      isTTY: true,
      readAll: async () => '',
      lines: async function* () {
        yield* ['一つ目', '二つ目', '', '読まれない'];
      },
    });
    expect(typed).toEqual({ code: 0, out: ['answer to 一つ目', 'answer to 二つ目'] });
  });

  test('refuses a run without a live throughput and says why and how to get one', async () => {
    fakes.invoked!.length = 0;
    const gated = await cli('chat', 'r-gated', 'こんにちは');
    expect(gated.code).toBe(1);
    expect(gated.stderr).toContain('run r-gated has no live throughput: the gate deleted it after the evaluation');
    expect(gated.stderr).toContain('Japanese answers 0 < 0.900');
    expect(gated.stderr).toContain(
      'next: buy throughput for its model with a model.provision message naming arn:model/gated',
    );
    const training = await cli('invoke', 'r-training', 'こんにちは');
    expect(training.code).toBe(1);
    expect(training.stderr).toContain('run r-training is training: it has no model to chat with yet');
    expect(fakes.invoked).toEqual([]);
  });

  test('compare prints the runs side by side, by category, with the gate decisions', async () => {
    const r = await cli('compare', 'r-live', 'r-gated', 'r-training');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^RUN\s+CATEGORY\s+SAMPLES\s+ANSWERED\s+JAPANESE\s+CHARS\s+LEN\/REF\s+OVERLONG\s+COUNT MET\s+CHRF\s+GATE$/,
    );
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'r-live all',
      'r-live brainstorming',
      'r-live open_qa',
      'r-gated all',
      'r-gated open_qa',
    ]);
    expect(lines[2]).toMatch(/\s0\/1\s+-\s+keep$/); // two items where three were asked
    expect(lines[4]).toMatch(/^r-gated\s+all\s+1\s+1\s+0\s+6\s+1\.2\s+0\s+-\s+0\s+delete$/);
    expect(r.stderr).toContain('not evaluated: r-training (training)');
    // r-live's brainstorming answer had no reference: compare says it is left out of chrF and the length ratio
    expect(r.stderr).toContain('note: answers to prompts without a reference');
    expect(r.stderr).toMatch(/left out of CHRF and LEN\/REF: r-live 1$/m);
    const json = (await cli('compare', 'r-gated', '--json')).json<{
      rows: Array<{ scores: { japaneseRatio: number } }>;
    }>();
    expect(json.rows[0]!.scores.japaneseRatio).toBe(0);
  });

  test("compare adds the base model's rows, overall and by category, and says when the emulator gave the answers", async () => {
    const r = await cli('compare', 'r-based');
    expect(
      r.stdout
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/).slice(0, 4).join(' ')),
    ).toEqual([
      'r-based all 1 1',
      'r-based open_qa 1 1',
      'base model amazon.nova-micro-v1:0 all',
      'base model amazon.nova-micro-v1:0 open_qa',
    ]);
    expect(r.stdout).toMatch(/base model amazon\.nova-micro-v1:0\s+all\s+1\s+1\s/);
    expect(r.stderr).toContain('the Bedrock emulator gave these answers: no model was trained or ran');
    const json = (await cli('compare', 'r-based', '--json')).json<{ rows: Array<{ runId: string; base?: true }> }>();
    expect(json.rows.at(-1)).toMatchObject({ runId: 'amazon.nova-micro-v1:0', base: true });
    expect((await cli('compare', 'r-live')).stderr).not.toContain('emulator');
  });

  test("compare shows the judge's mean grades, its cost estimate, and that the emulator's grades are a rule", async () => {
    const r = await cli('compare', 'r-judged');
    const [head, all] = r.stdout.split('\n');
    expect(head).toMatch(/\sCHRF\s+JUDGE OK\s+JUDGE JA\s+GATE$/);
    expect(all).toMatch(/^r-judged\s+all\s+2\s+2\s.*\s5\s+4\s+-$/); // the malformed reply is not averaged
    expect(r.stderr).toMatch(
      /note: judge anthropic\.claude-3-haiku-20240307-v1:0 on r-judged: 1 of 2 answers graded, 1 malformed; estimated 1 answer\(s\) x rubric, \d+ input \+ at most 64 output tokens: ~\$[0-9.]+ \(UNVERIFIED prices\)/,
    );
    expect(r.stderr).toContain("the Bedrock emulator's judge rule");
    expect(r.stderr).toContain("a deterministic rule, not a model's opinion");
    // without a judge, neither the columns nor the notes
    const live = await cli('compare', 'r-live');
    expect(live.stdout).not.toContain('JUDGE');
    expect(live.stderr).not.toContain('judge');
  });

  test('chatPrompt leaves a question without knowledge as it is, and a fields run without the dolly frame', () => {
    const dolly = { config: RunConfig.parse({}) };
    expect(chatPrompt(dolly, '質問')).toBe('質問');
    const fields = { config: RunConfig.parse({ prep: { template: { kind: 'fields' } } }) };
    expect(chatPrompt(fields, '質問', '知識')).toBe('質問\n知識');
  });
});
