import {
  BedrockClient,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  ListCustomModelsCommand,
  StopModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import {
  createJob,
  jobInput,
  promptCompletion,
  putJsonl,
  serviceError,
  startStack,
  waitForJob,
  type Stack,
} from './harness';

describe('fault injection', () => {
  let stack: Stack;
  let train: string;
  const list = () => stack.bedrock.send(new ListCustomModelsCommand({}));

  beforeAll(async () => {
    // A slow clock keeps jobs InProgress while faults are injected into them.
    stack = await startStack({ simulatedHoursPerSecond: 600, quotas: { concurrentJobs: 10 } });
    train = await putJsonl(stack, 'faults/train.jsonl', promptCompletion(3));
  });
  afterEach(() => stack.emulator.faults.reset());
  afterAll(() => stack.close());

  it('throttles the next N calls with 429 ThrottlingException, on the control plane and the runtime', async () => {
    stack.emulator.faults.throttleNext(2);
    expect(await serviceError(list())).toMatchObject({ name: 'ThrottlingException', status: 429, fault: 'client' });
    const runtime = await serviceError(
      stack.runtime.send(
        new InvokeModelCommand({
          modelId: 'arn:aws:bedrock:us-east-1:000000000000:provisioned-model/abcdefabcdef',
          body: '{}',
          contentType: 'application/json',
        }),
      ),
    );
    expect(runtime).toMatchObject({ name: 'ThrottlingException', status: 429 });
    await expect(list()).resolves.toBeDefined();
  });

  it("lets the SDK's default retries ride out a short throttle", async () => {
    const retrying = new BedrockClient({
      endpoint: stack.emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    try {
      stack.emulator.faults.throttleNext(1);
      const out = await retrying.send(new ListCustomModelsCommand({}));
      expect(out.$metadata.attempts).toBe(2);
    } finally {
      retrying.destroy();
    }
  });

  it('returns 500 InternalServerException at a deterministic rate', async () => {
    stack.emulator.faults.internalErrorRate(0.5);
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        await list();
        outcomes.push('ok');
      } catch (err) {
        const e = err as { name: string; $fault: string; $metadata: { httpStatusCode: number } };
        expect(e.$metadata.httpStatusCode).toBe(500);
        expect(e.$fault).toBe('server');
        outcomes.push(e.name);
      }
    }
    expect(outcomes).toEqual(['ok', 'InternalServerException', 'ok', 'InternalServerException']);
  });

  it('fails every call, control plane and runtime, for the length of an outage, then answers again', async () => {
    stack.emulator.faults.outage(0.4);
    expect(await serviceError(list())).toMatchObject({ name: 'InternalServerException', status: 500 });
    const runtime = await serviceError(
      stack.runtime.send(
        new InvokeModelCommand({
          modelId: 'arn:aws:bedrock:us-east-1:000000000000:provisioned-model/abcdefabcdef',
          body: '{}',
          contentType: 'application/json',
        }),
      ),
    );
    expect(runtime).toMatchObject({ name: 'InternalServerException', status: 500 });
    expect(await serviceError(list())).toMatchObject({ name: 'InternalServerException' });
    await new Promise((r) => setTimeout(r, 450));
    await expect(list()).resolves.toBeDefined();

    stack.emulator.faults.outage(60, 'unavailable');
    expect(await serviceError(list())).toMatchObject({ name: 'ServiceUnavailableException', status: 503 });
    stack.emulator.faults.outage(60, 'throttled');
    expect(await serviceError(list())).toMatchObject({ name: 'ThrottlingException', status: 429 });
    stack.emulator.faults.outage(0);
    await expect(list()).resolves.toBeDefined();
  });

  it('starts an outage at the next call of a named operation, that call failing first; reset clears one still waiting', async () => {
    stack.emulator.faults.outage(60, 'unavailable', 'GetCustomModel');
    await expect(list()).resolves.toBeDefined(); // other operations still answer while it waits
    const get = () => stack.bedrock.send(new GetCustomModelCommand({ modelIdentifier: 'no-such-model' }));
    expect(await serviceError(get())).toMatchObject({ name: 'ServiceUnavailableException', status: 503 });
    expect(await serviceError(list())).toMatchObject({ name: 'ServiceUnavailableException' });
    stack.emulator.faults.outage(0);
    expect(await serviceError(get())).toMatchObject({ name: 'ResourceNotFoundException' }); // it fired once

    stack.emulator.faults.outage(60, 'internal', 'GetCustomModel');
    stack.emulator.faults.reset();
    expect(await serviceError(get())).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(() => stack.emulator.faults.outage(1, 'internal', 'GetFoundationModel' as never)).toThrow(
      /outage.from must be an emulated operation .*got GetFoundationModel/,
    );
  });

  it('fails a running job by name with the given message, and emits the Failed event', async () => {
    const input = jobInput(train);
    const jobArn = await createJob(stack, input);
    stack.emulator.faults.failJob(
      input.jobName!,
      'Encountered an unexpected error when processing the request, please try again',
    );
    const job = await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    expect(job).toMatchObject({
      status: 'Failed',
      failureMessage: 'Encountered an unexpected error when processing the request, please try again',
    });
    expect(stack.events.filter((e) => e.detail.jobArn === jobArn).map((e) => e.detail.jobStatus)).toEqual([
      'InProgress',
      'Failed',
    ]);
  });

  it('fails a job created later under that name, after it has shown InProgress', async () => {
    const input = jobInput(train);
    stack.emulator.faults.failJob(input.jobName!, 'Injected: hours later');
    const jobArn = await createJob(stack, input);
    expect((await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))).status).toBe(
      'InProgress',
    );
    expect(await waitForJob(stack, jobArn)).toMatchObject({
      status: 'Failed',
      failureMessage: 'Injected: hours later',
    });
  });

  it('holds a job by name in InProgress past the time its data trains in, until it is stopped', async () => {
    const held = jobInput(train);
    stack.emulator.faults.holdJob(held.jobName!);
    const heldArn = await createJob(stack, held);
    const alike = await createJob(stack, jobInput(train));
    expect(await waitForJob(stack, alike)).toMatchObject({ status: 'Completed' });
    const get = () => stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: heldArn }));
    expect((await get()).status).toBe('InProgress');
    await stack.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: heldArn }));
    expect(await waitForJob(stack, heldArn)).toMatchObject({ status: 'Stopped' });
  });

  it('changes quotas', async () => {
    stack.emulator.faults.setQuotas({ concurrentJobs: 0 });
    try {
      expect(await serviceError(createJob(stack, jobInput(train)))).toMatchObject({
        name: 'ServiceQuotaExceededException',
        status: 400,
      });
    } finally {
      stack.emulator.faults.setQuotas({ concurrentJobs: 10 });
    }
  });

  it('takes the same faults over HTTP, for other processes of the stack', async () => {
    const post = (body: unknown) =>
      fetch(`${stack.emulator.endpoint}/_emulator/faults`, { method: 'POST', body: JSON.stringify(body) });
    const answer = await post({ throttleNext: 1, quotas: { concurrentJobs: 7 } });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { quotas: { concurrentJobs: number } }).quotas.concurrentJobs).toBe(7);
    expect(await serviceError(list())).toMatchObject({ name: 'ThrottlingException' });
    await expect(list()).resolves.toBeDefined();

    const input = jobInput(train);
    const jobArn = await createJob(stack, input);
    await post({ failJob: { jobName: input.jobName, message: 'failed over HTTP' } });
    expect(
      (await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))).failureMessage,
    ).toBe('failed over HTTP');

    await post({ internalErrorRate: 1 });
    expect(await serviceError(list())).toMatchObject({ name: 'InternalServerException', status: 500 });
    await post({ reset: true, quotas: { concurrentJobs: 10 } });
    await expect(list()).resolves.toBeDefined();

    expect((await post({ outage: { seconds: 60, error: 'unavailable' } })).status).toBe(200);
    expect(await serviceError(list())).toMatchObject({ name: 'ServiceUnavailableException', status: 503 });
    expect((await post({ outage: { seconds: 60, error: 'teapot' } })).status).toBe(400);
    await post({ reset: true, outage: { seconds: 60, from: 'ListCustomModels' } });
    expect(await serviceError(list())).toMatchObject({ name: 'InternalServerException' });
    await post({ reset: true });
    await expect(list()).resolves.toBeDefined();
  });
});
