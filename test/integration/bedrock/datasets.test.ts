import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { BUCKET, createJob, jobInput, promptCompletion, putJsonl, startStack, waitForJob, type Stack } from './harness';

/**
 * Bedrock checks training data asynchronously: the job is accepted, shows InProgress, and fails later with a
 * failureMessage (docs/bedrock-api.md §6.4). Each case asserts both halves.
 */
describe('asynchronous training-data checks', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ quotas: { concurrentJobs: 20 } });
  });
  afterAll(() => stack.close());

  async function failsLater(input: ReturnType<typeof jobInput>): Promise<string> {
    const jobArn = await createJob(stack, input);
    const events = () => stack.events.filter((e) => e.detail.jobArn === jobArn).map((e) => e.detail.jobStatus);
    expect(events()).toEqual(['InProgress']);
    const job = await waitForJob(stack, jobArn);
    expect(job.status).toBe('Failed');
    expect(job.endTime).toBeInstanceOf(Date);
    expect(job.outputModelArn).toBeUndefined();
    expect(events()).toEqual(['InProgress', 'Failed']);
    expect(
      stack.events.find((e) => e.detail.jobArn === jobArn && e.detail.jobStatus === 'Failed')!.detail.failureMessage,
    ).toBe(job.failureMessage);
    return job.failureMessage!;
  }

  it('fails on a line that is not JSON, naming the file and the line', async () => {
    const uri = await putJsonl(
      stack,
      'data/broken.jsonl',
      '{"prompt":"a","completion":"b"}\n{"prompt":"a","completion":"b"}\n{"prompt": "unterminated\n',
    );
    expect(await failsLater(jobInput(uri))).toBe(
      'Unable to parse Amazon S3 file: broken.jsonl. Data files must conform to JSONL format. Line 3 is not valid JSON.',
    );
  });

  it('fails on a fine-tuning record without "completion", in Bedrock\'s format message', async () => {
    const uri = await putJsonl(stack, 'data/no-completion.jsonl', [
      { prompt: 'a', completion: 'b' },
      { prompt: 'a', output: 'b' },
    ]);
    expect(await failsLater(jobInput(uri))).toBe(
      `Input data at data/no-completion.jsonl must follow '{"prompt": "<input text>", "completion": "<output text>"}' format. Line 2: missing string field "completion".`,
    );
  });

  it('fails on a continued pre-training record without "input"', async () => {
    const uri = await putJsonl(stack, 'data/cpt-prompt.jsonl', [{ prompt: 'a', completion: 'b' }]);
    const message = await failsLater(jobInput(uri, { customizationType: 'CONTINUED_PRE_TRAINING' }));
    expect(message).toBe(
      `Input data at data/cpt-prompt.jsonl must follow '{"input": "<input text>"}' format. Line 1: missing string field "input".`,
    );
  });

  it('completes a continued pre-training job on {"input"} records', async () => {
    const uri = await putJsonl(stack, 'data/cpt.jsonl', [
      { input: '東京は日本の首都である。' },
      { input: 'Bedrock trains nothing here.' },
    ]);
    const job = await waitForJob(
      stack,
      await createJob(stack, jobInput(uri, { customizationType: 'CONTINUED_PRE_TRAINING' })),
    );
    expect(job).toMatchObject({ status: 'Completed', customizationType: 'CONTINUED_PRE_TRAINING' });
  });

  it("fails on too many records, saying the Titan figure is the emulator's default", async () => {
    stack.emulator.faults.setQuotas({ maxTrainingRecords: 5 });
    try {
      const uri = await putJsonl(stack, 'data/six.jsonl', promptCompletion(6));
      expect(await failsLater(jobInput(uri))).toBe(
        'Training data at data/six.jsonl has more than 5 records, the maximum for this model (emulator default; the real quota is account-specific and not published).',
      );
      const five = await putJsonl(stack, 'data/five.jsonl', promptCompletion(5));
      expect((await waitForJob(stack, await createJob(stack, jobInput(five)))).status).toBe('Completed');
    } finally {
      stack.emulator.faults.setQuotas({ maxTrainingRecords: 10_000 });
    }
  });

  it("uses the catalog's published record limits where there are some (Claude 3 Haiku needs at least 32)", async () => {
    const claude = (i: number) => ({
      system: 'あなたは親切です。',
      messages: [
        { role: 'user', content: `質問${i}` },
        { role: 'assistant', content: `答え${i}` },
      ],
    });
    const uri = await putJsonl(
      stack,
      'data/haiku.jsonl',
      Array.from({ length: 31 }, (_, i) => claude(i)),
    );
    const message = await failsLater(
      jobInput(uri, { baseModelIdentifier: 'anthropic.claude-3-haiku-20240307-v1:0:200k', hyperParameters: {} }),
    );
    expect(message).toBe('The dataset has 31 records; anthropic.claude-3-haiku-20240307-v1:0:200k needs at least 32.');
  });

  it('fails on a record over the token limit: 4,097 Japanese characters at batch size 1', async () => {
    const uri = await putJsonl(stack, 'data/long.jsonl', [
      { prompt: 'a', completion: 'b' },
      { prompt: 'あ'.repeat(4000), completion: 'い'.repeat(97) },
    ]);
    expect(await failsLater(jobInput(uri))).toBe(
      'Max sum of input and output token length 4097 exceeds total limit of 4096 (long.jsonl line 2).',
    );
    const input = await putJsonl(stack, 'data/long-input.jsonl', [{ input: '字'.repeat(4097) }]);
    expect(await failsLater(jobInput(input, { customizationType: 'CONTINUED_PRE_TRAINING' }))).toBe(
      'Maximum input token count 4097 exceeds limit of 4096 (long-input.jsonl line 1).',
    );
  });

  it('checks the validation file too, against its own record format', async () => {
    const train = await putJsonl(stack, 'data/ok-train.jsonl', promptCompletion(3));
    const valid = await putJsonl(stack, 'data/bad-valid.jsonl', 'not json\n');
    expect(await failsLater(jobInput(train, { validationDataConfig: { validators: [{ s3Uri: valid }] } }))).toBe(
      'Unable to parse Amazon S3 file: bad-valid.jsonl. Data files must conform to JSONL format. Line 1 is not valid JSON.',
    );
  });

  it("fails on a validation file over Titan's 100 MB limit (docs/bedrock-api.md §7.2)", async () => {
    const train = await putJsonl(stack, 'data/ok-train-2.jsonl', promptCompletion(3));
    const big = Buffer.alloc(100 * 1024 * 1024 + 1, 0x20);
    await stack.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/huge-valid.jsonl', Body: big }));
    expect(
      await failsLater(
        jobInput(train, { validationDataConfig: { validators: [{ s3Uri: `s3://${BUCKET}/data/huge-valid.jsonl` }] } }),
      ),
    ).toBe(
      `Validation data file huge-valid.jsonl is ${100 * 1024 * 1024 + 1} bytes, which exceeds the limit of ${100 * 1024 * 1024} bytes.`,
    );
  });
});

/**
 * The Titan batch-size trap (docs/bedrock-api.md §8.1): kept in the catalog's token-limit rows, played out by the
 * emulator.
 */
describe('the Titan Text Lite batch-size trap', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ quotas: { concurrentJobs: 20 } });
  });
  afterAll(() => stack.close());

  // 3,000 tokens: inside the 4,096 limit of batch sizes 1-2, over the 2,048 of batch sizes 3-6.
  const record = { prompt: '問'.repeat(2500), completion: '答'.repeat(500) };

  it('completes at batch size 2', async () => {
    const uri = await putJsonl(stack, 'trap/train.jsonl', [record]);
    const job = await waitForJob(stack, await createJob(stack, jobInput(uri, { hyperParameters: { batchSize: '2' } })));
    expect(job.status).toBe('Completed');
  });

  it('fails at batch size 4, because the per-record limit halves to 2,048', async () => {
    const uri = await putJsonl(stack, 'trap/train.jsonl', [record]);
    const job = await waitForJob(stack, await createJob(stack, jobInput(uri, { hyperParameters: { batchSize: '4' } })));
    expect(job).toMatchObject({
      status: 'Failed',
      failureMessage: 'Max sum of input and output token length 3000 exceeds total limit of 2048 (train.jsonl line 1).',
    });
  });

  it('accepts batch size 8 (inside 1-64), shows InProgress, then fails during training, later than the data checks', async () => {
    const uri = await putJsonl(stack, 'trap/small.jsonl', promptCompletion(3));
    const dataFailure = await createJob(stack, jobInput(await putJsonl(stack, 'trap/broken.jsonl', 'x\n')));
    const trapped = await createJob(stack, jobInput(uri, { hyperParameters: { batchSize: '8' } }));
    expect((await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: trapped }))).status).toBe(
      'InProgress',
    );
    const broken = await waitForJob(stack, dataFailure);
    const job = await waitForJob(stack, trapped);
    expect(broken.status).toBe('Failed');
    expect(job.status).toBe('Failed');
    expect(job.failureMessage).toContain('batchSize 8 has no defined token limit for amazon.titan-text-lite-v1:0:4k');
    expect(job.failureMessage).toContain('limits are defined for batch sizes 1-2, 3-6');
    expect(job.failureMessage).toContain('docs/bedrock-api.md §8.1');
    // The trap fires in training: after the data checks (which failed the other job) have passed.
    expect(job.endTime!.getTime()).toBeGreaterThan(broken.endTime!.getTime());
  });
});
