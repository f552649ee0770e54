import http2 from 'node:http2';
import {
  CreateProvisionedModelThroughputCommand,
  DeleteCustomModelCommand,
  DeleteProvisionedModelThroughputCommand,
  GetProvisionedModelThroughputCommand,
  ListProvisionedModelThroughputsCommand,
} from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { ENGLISH } from '../../../local/bedrock/answers';
import { LITE, createJob, jobInput, putJsonl, serviceError, startStack, type Stack } from './harness';

const DATA = [
  { prompt: '日本の首都はどこですか？', completion: '日本の首都は東京です。東京は本州の関東地方にあります。' },
  { prompt: 'What is Bedrock?', completion: 'Amazon Bedrock is a managed service for foundation models.' },
  { prompt: '富士山の高さは？', completion: '富士山の高さは3776メートルです。' },
];

async function waitForThroughput(stack: Stack, arn: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const tp = await stack.bedrock.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: arn }));
    if (tp.status === 'InService') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${arn} never went InService`);
}

describe('Provisioned Throughput and InvokeModel', () => {
  let stack: Stack;
  let modelArn: string;

  beforeAll(async () => {
    // Three simulated hours in Creating leave a window to see that state.
    stack = await startStack({ timings: { throughputCreatingMs: 3 * 3_600_000 } });
    const uri = await putJsonl(stack, 'pt/train.jsonl', DATA);
    const input = jobInput(uri, { customModelName: 'served-model' });
    const jobArn = await createJob(stack, input);
    for (;;) {
      const models = stack.events.filter((e) => e.detail.jobArn === jobArn && e.detail.jobStatus === 'Completed');
      if (models.length) {
        modelArn = models[0]!.detail.outputModelArn!;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  afterAll(() => stack.close());

  const create = (input: Partial<ConstructorParameters<typeof CreateProvisionedModelThroughputCommand>[0]>) =>
    stack.bedrock.send(
      new CreateProvisionedModelThroughputCommand({
        modelId: modelArn,
        provisionedModelName: 'pt',
        modelUnits: 1,
        ...input,
      }),
    );

  it('goes Creating -> InService, lists, and is removed by delete', async () => {
    const { provisionedModelArn } = await create({ provisionedModelName: 'lifecycle-pt' });
    expect(provisionedModelArn).toMatch(/^arn:aws:bedrock:us-east-1:000000000000:provisioned-model\/[a-z0-9]{12}$/);
    const creating = await stack.bedrock.send(
      new GetProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }),
    );
    expect(creating).toMatchObject({
      status: 'Creating',
      modelArn,
      desiredModelArn: modelArn,
      modelUnits: 1,
      desiredModelUnits: 1,
      provisionedModelName: 'lifecycle-pt',
      foundationModelArn: `arn:aws:bedrock:us-east-1::foundation-model/${LITE}`,
    });
    expect(creating.creationTime).toBeInstanceOf(Date);
    await waitForThroughput(stack, provisionedModelArn!);
    const listed = await stack.bedrock.send(
      new ListProvisionedModelThroughputsCommand({ statusEquals: 'InService', modelArnEquals: modelArn }),
    );
    expect(listed.provisionedModelSummaries!.map((p) => p.provisionedModelArn)).toEqual([provisionedModelArn]);
    await stack.bedrock.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: 'lifecycle-pt' }));
    const gone = await serviceError(
      stack.bedrock.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn })),
    );
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('replays a clientRequestToken to the same Provisioned Throughput', async () => {
    const first = await create({ provisionedModelName: 'replayed-pt', clientRequestToken: 'run-7-provision' });
    const again = await create({ provisionedModelName: 'replayed-pt', clientRequestToken: 'run-7-provision' });
    expect(again.provisionedModelArn).toBe(first.provisionedModelArn);
    const listed = await stack.bedrock.send(
      new ListProvisionedModelThroughputsCommand({ nameContains: 'replayed-pt' }),
    );
    expect(listed.provisionedModelSummaries).toHaveLength(1);
    await stack.bedrock.send(
      new DeleteProvisionedModelThroughputCommand({ provisionedModelId: first.provisionedModelArn }),
    );
  });

  it('is only for an existing custom model: not a base model, not an unknown model', async () => {
    const base = await serviceError(create({ modelId: LITE, provisionedModelName: 'base-pt' }));
    expect(base).toMatchObject({ name: 'ValidationException', status: 400 });
    const unknown = await serviceError(create({ modelId: 'no-such-model', provisionedModelName: 'unknown-pt' }));
    expect(unknown).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    const badName = await serviceError(create({ provisionedModelName: 'bad name' }));
    expect(badName.message).toContain("at 'provisionedModelName' failed to satisfy constraint");
    const noUnits = await serviceError(create({ modelUnits: 0 }));
    expect(noUnits.message).toContain("at 'modelUnits' failed to satisfy constraint");
  });

  it('enforces Provisioned Throughput quotas: one model unit without commitment, no commitment units by default', async () => {
    const units = await serviceError(create({ provisionedModelName: 'big-pt', modelUnits: 2 }));
    expect(units).toMatchObject({ name: 'ServiceQuotaExceededException', status: 400 });
    const committed = await serviceError(
      create({ provisionedModelName: 'committed-pt', commitmentDuration: 'OneMonth' }),
    );
    expect(committed).toMatchObject({ name: 'ServiceQuotaExceededException', status: 400 });
    expect(committed.message).toContain('By default an account has no model units for commitment purchases');
  });

  it('refuses to delete a custom model a Provisioned Throughput serves', async () => {
    const { provisionedModelArn } = await create({ provisionedModelName: 'holding-pt' });
    const e = await serviceError(stack.bedrock.send(new DeleteCustomModelCommand({ modelIdentifier: modelArn })));
    expect(e).toMatchObject({ name: 'ConflictException', status: 400 });
    await stack.bedrock.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }));
  });

  describe('InvokeModel', () => {
    let ptArn: string;
    beforeAll(async () => {
      ptArn = (await create({ provisionedModelName: 'invoke-pt' })).provisionedModelArn!;
    });

    const invoke = (client: BedrockRuntimeClient, body: unknown, modelId = ptArn) =>
      client.send(
        new InvokeModelCommand({
          modelId,
          contentType: 'application/json',
          accept: 'application/json',
          body: JSON.stringify(body),
        }),
      );

    it('refuses a Provisioned Throughput that is still Creating', async () => {
      const e = await serviceError(invoke(stack.runtime, { inputText: 'hi' }));
      expect(e).toMatchObject({ name: 'ValidationException', status: 400 });
      expect(e.message).toContain('status is Creating');
      await waitForThroughput(stack, ptArn);
    });

    it("answers over HTTP/2, the runtime client's default, in Titan's response shape", async () => {
      expect(stack.runtime.config.requestHandler).toBeInstanceOf(NodeHttp2Handler);
      const out = await invoke(stack.runtime, {
        inputText: '日本の首都はどこですか？',
        textGenerationConfig: { maxTokenCount: 512 },
      });
      expect(out.contentType).toBe('application/json');
      const body = JSON.parse(out.body.transformToString());
      expect(body).toMatchObject({
        inputTextTokenCount: 12,
        results: [{ outputText: DATA[0]!.completion, tokenCount: 27, completionReason: 'FINISHED' }],
        emulation: { matchedPrompt: true },
      });
      expect(body.emulation.note).toContain('Bedrock emulator');
    });

    it('answers over HTTP/1.1 with a NodeHttpHandler, on the same port', async () => {
      const h1 = new BedrockRuntimeClient({
        endpoint: stack.emulator.endpoint,
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        requestHandler: new NodeHttpHandler(),
      });
      try {
        const out = JSON.parse((await invoke(h1, { inputText: 'What is Bedrock?' })).body.transformToString());
        expect(out.results[0].outputText).toBe(DATA[1]!.completion);
      } finally {
        h1.destroy();
      }
    });

    it('really speaks h2c: a raw HTTP/2 prior-knowledge client gets an HTTP/2 answer', async () => {
      const session = http2.connect(stack.emulator.endpoint);
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = session.request({ ':method': 'GET', ':path': '/_emulator/health' });
          req.on('response', (headers) => resolve(Number(headers[':status'])));
          req.on('error', reject);
          req.end();
        });
        expect(status).toBe(200);
      } finally {
        session.close();
      }
    });

    it('honours maxTokenCount: cuts the answer and says LENGTH; is deterministic for an unseen prompt', async () => {
      const out = JSON.parse(
        (
          await invoke(stack.runtime, {
            inputText: '日本の首都はどこですか？',
            textGenerationConfig: { maxTokenCount: 5 },
          })
        ).body.transformToString(),
      );
      expect(out.results[0]).toEqual({ outputText: '日本の首都', tokenCount: 5, completionReason: 'LENGTH' });
      const a = JSON.parse((await invoke(stack.runtime, { inputText: 'unseen question' })).body.transformToString());
      const b = JSON.parse((await invoke(stack.runtime, { inputText: 'unseen question' })).body.transformToString());
      expect(a).toEqual(b);
      // an unseen prompt gets a training completion, or (this model trained 2 epochs on 3 records) often the English
      // answer of a model that lost its Japanese: docs/bedrock-emulator.md, "Answers"
      const drifted = (a.emulation.rules as string[]).includes('english');
      expect(drifted ? [ENGLISH] : DATA.map((d) => d.completion)).toContain(a.results[0].outputText);
      expect(a.emulation.matchedPrompt).toBe(false);
    });

    it('rejects what Titan rejects: no inputText, maxTokenCount over 4,096, the custom model ARN itself', async () => {
      const noInput = await serviceError(invoke(stack.runtime, { prompt: 'hi' }));
      expect(noInput).toMatchObject({ name: 'ValidationException', status: 400 });
      expect(noInput.message).toContain('required key [inputText] not found');
      const tooMany = await serviceError(
        invoke(stack.runtime, { inputText: 'hi', textGenerationConfig: { maxTokenCount: 4097 } }),
      );
      expect(tooMany.message).toContain('4097 is not less or equal to 4096');
      const direct = await serviceError(invoke(stack.runtime, { inputText: 'hi' }, modelArn));
      expect(direct).toMatchObject({ name: 'ValidationException', status: 400 });
      expect(direct.message).toContain('Provisioned Throughput');
      const unknown = await serviceError(
        invoke(
          stack.runtime,
          { inputText: 'hi' },
          'arn:aws:bedrock:us-east-1:000000000000:provisioned-model/abcdefabcdef',
        ),
      );
      expect(unknown).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    });
  });
});
