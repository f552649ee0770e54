import {
  CreateCustomModelDeploymentCommand,
  CreateProvisionedModelThroughputCommand,
  DeleteCustomModelDeploymentCommand,
  GetCustomModelDeploymentCommand,
  GetProvisionedModelThroughputCommand,
  ListCustomModelDeploymentsCommand,
  UpdateProvisionedModelThroughputCommand,
} from '@aws-sdk/client-bedrock';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { TITAN_RECIPE_DATE } from '../../../shared/catalog';
import { INVOKE_BODIES } from '../../../shared/orchestration/bedrock-adapter';
import { LITE, createJob, jobInput, putJsonl, serviceError, startStack, type Stack } from './harness';

const NOVA = 'amazon.nova-micro-v1:0:128k';
const TODAY = new Date().toISOString().slice(0, 10);
/** Nova's training records: bedrock-conversation-2024, at least 8 of them. */
const conversations = Array.from({ length: 10 }, (_, i) => ({
  schemaVersion: 'bedrock-conversation-2024',
  system: [],
  messages: [
    { role: 'user', content: [{ text: `質問 ${i}: 日本の首都は？` }] },
    { role: 'assistant', content: [{ text: `答え ${i}: 東京です。` }] },
  ],
}));

async function trainedModel(stack: Stack, name: string, base: string, records: unknown[], hp: Record<string, string>) {
  const uri = await putJsonl(stack, `${name}/train.jsonl`, records);
  const jobArn = await createJob(
    stack,
    jobInput(uri, { customModelName: name, baseModelIdentifier: base, hyperParameters: hp }),
  );
  for (;;) {
    const done = stack.events.find((e) => e.detail.jobArn === jobArn && e.detail.jobStatus !== 'InProgress');
    if (done) {
      if (!done.detail.outputModelArn) throw new Error(`job failed: ${done.detail.failureMessage}`);
      return done.detail.outputModelArn;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = await get();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition never held');
}

describe('custom model deployments (on-demand serving) through the unmodified SDK clients', () => {
  let stack: Stack;
  let novaModel: string;

  beforeAll(async () => {
    // Thirty simulated hours in Creating (3 s here) leave a window to see that state.
    stack = await startStack({ catalogDate: TODAY, timings: { deploymentCreatingMs: 30 * 3_600_000 } });
    novaModel = await trainedModel(stack, 'nova-served', NOVA, conversations, { epochCount: '1' });
  });
  afterAll(() => stack.close());

  it('goes Creating -> Active, is listed and found by name, answers InvokeModel on its ARN in the Nova shape, and is deleted', async () => {
    const { customModelDeploymentArn: arn } = await stack.bedrock.send(
      new CreateCustomModelDeploymentCommand({
        modelDeploymentName: 'nova-od',
        modelArn: novaModel,
        clientRequestToken: 'tok-1',
      }),
    );
    expect(arn).toMatch(/^arn:aws:bedrock:us-east-1:000000000000:custom-model-deployment\/[a-z0-9]{12}$/);
    // the same token answers with the same deployment
    const again = await stack.bedrock.send(
      new CreateCustomModelDeploymentCommand({
        modelDeploymentName: 'nova-od',
        modelArn: novaModel,
        clientRequestToken: 'tok-1',
      }),
    );
    expect(again.customModelDeploymentArn).toBe(arn);
    const creating = await stack.bedrock.send(
      new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }),
    );
    expect(creating).toMatchObject({ status: 'Creating', modelArn: novaModel, modelDeploymentName: 'nova-od' });
    expect(creating.createdAt).toBeInstanceOf(Date);
    // not invocable until Active
    const early = await serviceError(
      stack.runtime.send(
        new InvokeModelCommand({ modelId: arn, body: JSON.stringify(INVOKE_BODIES['amazon-nova'].request('x', 50)) }),
      ),
    );
    expect(early.name).toBe('ValidationException');

    await until(
      () => stack.bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: 'nova-od' })),
      (d) => d.status === 'Active',
    );
    const listed = await stack.bedrock.send(
      new ListCustomModelDeploymentsCommand({ statusEquals: 'Active', modelArnEquals: novaModel }),
    );
    expect(
      listed.modelDeploymentSummaries!.map((d) => [d.customModelDeploymentArn, d.customModelDeploymentName]),
    ).toEqual([[arn, 'nova-od']]);

    const out = await stack.runtime.send(
      new InvokeModelCommand({
        modelId: arn,
        contentType: 'application/json',
        body: JSON.stringify(INVOKE_BODIES['amazon-nova'].request('質問 3: 日本の首都は？', 100)),
      }),
    );
    const body = JSON.parse(new TextDecoder().decode(out.body)) as Record<string, unknown>;
    expect(body).toMatchObject({
      output: { message: { role: 'assistant', content: [{ text: '答え 3: 東京です。' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
      emulation: { matchedPrompt: true },
    });
    expect(INVOKE_BODIES['amazon-nova'].text(body)).toBe('答え 3: 東京です。');

    await stack.bedrock.send(new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }));
    const gone = await serviceError(
      stack.bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn })),
    );
    expect(gone.name).toBe('ResourceNotFoundException');
  });

  it('refuses a deployment for a model whose base the catalog does not serve on demand', async () => {
    const stack2 = await startStack({ catalogDate: TITAN_RECIPE_DATE });
    try {
      const titanModel = await trainedModel(stack2, 'titan-served', LITE, [{ prompt: 'a', completion: 'b' }], {
        epochCount: '1',
        batchSize: '1',
        learningRate: '0.00001',
      });
      const err = await serviceError(
        stack2.bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: 't', modelArn: titanModel })),
      );
      expect(err).toMatchObject({ name: 'ValidationException', status: 400 });
      expect(err.message).toMatch(/use Provisioned Throughput/);
    } finally {
      await stack2.close();
    }
  });
});

describe('the model lifecycle in the emulator', () => {
  it("refuses Titan Text G1 as Bedrock does today, and a Nova job at the 2024 recipe's date", async () => {
    const today = await startStack({ catalogDate: TODAY });
    const then = await startStack({ catalogDate: TITAN_RECIPE_DATE });
    try {
      const uri = await putJsonl(today, 'eol/train.jsonl', [{ prompt: 'a', completion: 'b' }]);
      const eol = await serviceError(createJob(today, jobInput(uri)));
      expect(eol).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
      expect(eol.message).toMatch(/reached the end of its life.*amazon\.nova-micro-v1:0:128k/);
      const uri2 = await putJsonl(then, 'early/train.jsonl', conversations);
      const early = await serviceError(
        createJob(then, jobInput(uri2, { baseModelIdentifier: NOVA, hyperParameters: { epochCount: '1' } })),
      );
      expect(early).toMatchObject({ name: 'ValidationException' });
      expect(early.message).toMatch(/was not yet offered/);
    } finally {
      await today.close();
      await then.close();
    }
  });
});

describe('UpdateProvisionedModelThroughput and every family in its own InvokeModel shape', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      catalogDate: TITAN_RECIPE_DATE,
      timings: { throughputCreatingMs: 30 * 3_600_000 },
      quotas: { noCommitmentThroughputs: 10 },
    });
  });
  afterAll(() => stack.close());

  it('renames a throughput and moves it to another custom model of the same base model, Updating meanwhile', async () => {
    const hp = { epochCount: '1', batchSize: '1', learningRate: '0.00001' };
    const a = await trainedModel(stack, 'upd-a', LITE, [{ prompt: 'p', completion: 'first' }], hp);
    const b = await trainedModel(stack, 'upd-b', LITE, [{ prompt: 'p', completion: 'second' }], hp);
    const { provisionedModelArn: arn } = await stack.bedrock.send(
      new CreateProvisionedModelThroughputCommand({ modelId: a, provisionedModelName: 'upd', modelUnits: 1 }),
    );
    const get = () => stack.bedrock.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: arn }));
    await until(get, (t) => t.status === 'InService');
    await stack.bedrock.send(
      new UpdateProvisionedModelThroughputCommand({
        provisionedModelId: arn,
        desiredProvisionedModelName: 'upd-renamed',
        desiredModelId: b,
      }),
    );
    expect(await get()).toMatchObject({
      status: 'Updating',
      provisionedModelName: 'upd-renamed',
      modelArn: a,
      desiredModelArn: b,
    });
    await until(get, (t) => t.status === 'InService');
    expect(await get()).toMatchObject({ modelArn: b, desiredModelArn: b });
    const answer = await stack.runtime.send(
      new InvokeModelCommand({ modelId: arn, body: JSON.stringify(INVOKE_BODIES['titan-text'].request('p', 20)) }),
    );
    expect(INVOKE_BODIES['titan-text'].text(JSON.parse(new TextDecoder().decode(answer.body)))).toBe('second');
  });

  it.each([
    ['cohere.command-text-v14:7:4k', 'cohere-command', { epochCount: '1', batchSize: '8' }],
    ['meta.llama2-13b-v1:0:4k', 'meta-llama', { epochCount: '1', batchSize: '1' }],
    ['anthropic.claude-3-haiku-20240307-v1:0:200k', 'anthropic-claude', {}],
  ] as const)('%s answers in the %s shape', async (base, family, hp) => {
    const records =
      family === 'anthropic-claude'
        ? Array.from({ length: 32 }, (_, i) => ({
            messages: [
              { role: 'user', content: `q${i}` },
              { role: 'assistant', content: `a${i}` },
            ],
          }))
        : Array.from({ length: 100 }, (_, i) => ({ prompt: `q${i}`, completion: `a${i}` }));
    const model = await trainedModel(stack, `fam-${family}`, base, records, hp);
    const { provisionedModelArn: arn } = await stack.bedrock.send(
      new CreateProvisionedModelThroughputCommand({
        modelId: model,
        provisionedModelName: `fam-${family}`,
        modelUnits: 1,
      }),
    );
    await until(
      () => stack.bedrock.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: arn })),
      (t) => t.status === 'InService',
    );
    const shape = INVOKE_BODIES[family];
    const out = await stack.runtime.send(
      new InvokeModelCommand({ modelId: arn, body: JSON.stringify(shape.request('q7', 20)) }),
    );
    const body = JSON.parse(new TextDecoder().decode(out.body)) as Record<string, unknown>;
    expect(shape.text(body)).toBe('a7');
    expect(body.emulation).toMatchObject({ matchedPrompt: true });
    const malformed = await serviceError(
      stack.runtime.send(new InvokeModelCommand({ modelId: arn, body: JSON.stringify({ inputText: 'q7' }) })),
    );
    expect(malformed.name).toBe('ValidationException');
    expect(malformed.message).toMatch(/^Malformed input request/);
  });
});

describe('a base model invoked on demand (the evaluation asks it for comparison)', () => {
  const invoke = (stack: Stack, modelId: string, family: 'titan-text' | 'amazon-nova', prompt: string) =>
    stack.runtime.send(
      new InvokeModelCommand({ modelId, body: JSON.stringify(INVOKE_BODIES[family].request(prompt, 100)) }),
    );
  const decode = (out: { body: Uint8Array }) =>
    JSON.parse(new TextDecoder().decode(out.body)) as Record<string, unknown>;

  it('answers by its inference id in its family shape, by the base-model rule, the same every time', async () => {
    const stack = await startStack({ catalogDate: TODAY });
    try {
      const first = decode(await invoke(stack, 'amazon.nova-micro-v1:0', 'amazon-nova', '日本の首都はどこですか？'));
      const again = decode(await invoke(stack, 'amazon.nova-micro-v1:0', 'amazon-nova', '日本の首都はどこですか？'));
      expect(first).toEqual(again);
      expect(first).toMatchObject({
        output: {
          message: { role: 'assistant', content: [{ text: expect.stringContaining('日本の首都はどこですか？') }] },
        },
        emulation: { rules: ['base'], note: expect.stringMatching(/no model ran/) },
      });
      // the customization id is not an on-demand model id
      const wrong = await serviceError(invoke(stack, NOVA, 'amazon-nova', 'x'));
      expect(wrong.name).toBe('ValidationException');
    } finally {
      await stack.close();
    }
  });

  it("answers for Titan Text G1 - Lite at the recipe's date, in English half the time, and refuses it today", async () => {
    const then = await startStack({ catalogDate: TITAN_RECIPE_DATE });
    const today = await startStack({ catalogDate: TODAY });
    try {
      const prompts = Array.from({ length: 40 }, (_, i) => `質問 ${i}: これは何ですか？`);
      const answers = [];
      for (const p of prompts) {
        const body = decode(await invoke(then, 'amazon.titan-text-lite-v1', 'titan-text', p));
        answers.push(body as { results: Array<{ outputText: string }>; emulation: { rules: string[] } });
      }
      const english = answers.filter((a) => a.emulation.rules.includes('english')).length;
      expect(english).toBeGreaterThan(10);
      expect(english).toBeLessThan(30);
      expect(answers.find((a) => !a.emulation.rules.includes('english'))!.results[0]!.outputText).toMatch(/質問/);
      const eol = await serviceError(invoke(today, 'amazon.titan-text-lite-v1', 'titan-text', 'x'));
      expect(eol).toMatchObject({ name: 'ResourceNotFoundException' });
      expect(eol.message).toMatch(/end of its life/);
    } finally {
      await then.close();
      await today.close();
    }
  });
});
