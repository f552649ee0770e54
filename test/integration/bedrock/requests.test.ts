import {
  CreateModelCustomizationJobCommand,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import {
  BUCKET,
  createJob,
  jobInput,
  promptCompletion,
  putJsonl,
  serviceError,
  startStack,
  waitForJob,
  type Stack,
} from './harness';

/** Each check CreateModelCustomizationJob makes synchronously, with the error name and HTTP status Bedrock uses. */
describe('CreateModelCustomizationJob request checks', () => {
  let stack: Stack;
  let train: string;
  const create = (overrides: Parameters<typeof jobInput>[1]) =>
    serviceError(stack.bedrock.send(new CreateModelCustomizationJobCommand(jobInput(train, overrides))));

  beforeAll(async () => {
    stack = await startStack({ simulatedHoursPerSecond: 600 });
    train = await putJsonl(stack, 'checks/train.jsonl', promptCompletion(3));
  });
  afterAll(() => stack.close());

  it('requires the required members', async () => {
    const e = await create({ roleArn: undefined, customModelName: undefined });
    expect(e).toMatchObject({ name: 'ValidationException', status: 400, fault: 'client' });
    expect(e.message).toContain('2 validation errors detected');
    expect(e.message).toContain(
      "Value null at 'customModelName' failed to satisfy constraint: Member must not be null",
    );
    expect(e.message).toContain("Value null at 'roleArn'");
  });

  it.each([
    ['jobName', { jobName: 'x'.repeat(64) }, 'Member must have length less than or equal to 63'],
    ['jobName', { jobName: 'my_job' }, 'Member must satisfy regular expression pattern'],
    ['customModelName', { customModelName: 'my model' }, 'Member must satisfy regular expression pattern'],
    ['roleArn', { roleArn: 'arn:aws:iam::123:user/me' }, 'Member must satisfy regular expression pattern'],
    ['clientRequestToken', { clientRequestToken: '-bad-' }, 'Member must satisfy regular expression pattern'],
    [
      'trainingDataConfig.s3Uri',
      { trainingDataConfig: { s3Uri: 'https://bucket/train.jsonl' } },
      'Member must satisfy regular expression pattern',
    ],
    [
      'outputDataConfig.s3Uri',
      { outputDataConfig: { s3Uri: 's3://Upper-Case/out' } },
      'Member must satisfy regular expression pattern',
    ],
    ['customizationType', { customizationType: 'PRETRAINING' as never }, 'Member must satisfy enum value set'],
    [
      'validationDataConfig.validators',
      {
        validationDataConfig: {
          validators: Array.from({ length: 11 }, () => ({ s3Uri: 's3://bedrock-data/v.jsonl' })),
        },
      },
      'Member must have length less than or equal to 10',
    ],
  ])('checks %s', async (member, overrides, constraint) => {
    const e = await create(overrides);
    expect(e).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(e.message).toContain(`at '${member}' failed to satisfy constraint: ${constraint}`);
  });

  it('rejects an unknown base model, and names the customization id when given the on-demand id', async () => {
    const unknown = await create({ baseModelIdentifier: 'amazon.titan-text-mega-v9:0:4k' });
    expect(unknown).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(unknown.message).toContain('The provided model identifier is invalid');
    const onDemand = await create({ baseModelIdentifier: 'amazon.titan-text-lite-v1' });
    expect(onDemand.message).toContain('customization uses amazon.titan-text-lite-v1:0:4k');
  });

  it('accepts the foundation-model ARN of a base model', async () => {
    const arn = await createJob(
      stack,
      jobInput(train, {
        baseModelIdentifier: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k',
      }),
    );
    expect(arn).toContain('model-customization-job/amazon.titan-text-express-v1:0:8k/');
    stack.emulator.faults.failJob(
      (await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: arn }))).jobName!,
      'cleanup',
    );
  });

  it('rejects a customization type the base model does not support', async () => {
    const e = await create({
      baseModelIdentifier: 'cohere.command-text-v14:7:4k',
      customizationType: 'CONTINUED_PRE_TRAINING',
      hyperParameters: {},
    });
    expect(e).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(e.message).toBe(
      'The base model cohere.command-text-v14:7:4k does not support customization type CONTINUED_PRE_TRAINING. Supported: FINE_TUNING.',
    );
  });

  it.each([
    [
      { epochs: '2' },
      'Unknown hyperparameter epochs; supported: epochCount, batchSize, learningRate, learningRateWarmupSteps',
    ],
    [{ epochCount: 'two' }, 'Hyperparameter epochCount must be an integer, got "two"'],
    [{ epochCount: '11' }, 'Hyperparameter epochCount value 11 is out of range; it must be between 1 and 10'],
    [{ batchSize: '65' }, 'Hyperparameter batchSize value 65 is out of range; it must be between 1 and 64'],
    [{ learningRate: '2' }, 'Hyperparameter learningRate value 2 is out of range; it must be between 0 and 1'],
  ])('checks hyperparameters per base model: %j', async (hyperParameters, message) => {
    const e = await create({ hyperParameters });
    expect(e).toMatchObject({ name: 'ValidationException', status: 400, message });
  });

  it("checks hyperparameters against the base model's own table (Cohere batchSize is 8)", async () => {
    const e = await create({
      baseModelIdentifier: 'cohere.command-text-v14:7:4k',
      hyperParameters: { batchSize: '4' },
    });
    expect(e.message).toBe('Hyperparameter batchSize value 4 is out of range; it must be between 8 and 8');
  });

  it('checks that the training and validation objects exist and the output bucket is writable', async () => {
    const missing = await create({ trainingDataConfig: { s3Uri: `s3://${BUCKET}/checks/nope.jsonl` } });
    expect(missing).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: `Could not validate GetObject permissions to access Amazon S3 bucket: ${BUCKET} at key checks/nope.jsonl`,
    });
    const missingValidation = await create({
      validationDataConfig: { validators: [{ s3Uri: `s3://${BUCKET}/checks/v-nope.jsonl` }] },
    });
    expect(missingValidation.message).toContain('at key checks/v-nope.jsonl');
    const noBucket = await create({ outputDataConfig: { s3Uri: 's3://no-such-bucket/out' } });
    expect(noBucket).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message:
        'Amazon S3 perms missing (PutObject): Could not validate PutObject permissions to access S3 bucket: no-such-bucket at key out/.write_access_check_file.tmp',
    });
  });

  it('rejects a job name in use, and a custom model name in use', async () => {
    const first = jobInput(train);
    await createJob(stack, first);
    const sameJob = await create({ jobName: first.jobName });
    expect(sameJob).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: 'The provided job name is currently in use.',
    });
    const sameModel = await create({ customModelName: first.customModelName });
    expect(sameModel).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: 'The provided custom model name is currently in use.',
    });
    stack.emulator.faults.failJob(first.jobName!, 'cleanup');
  });

  it('enforces the concurrent-job quota with ServiceQuotaExceededException', async () => {
    stack.emulator.faults.setQuotas({ concurrentJobs: 1 });
    try {
      const running = jobInput(train);
      await createJob(stack, running);
      const e = await create({});
      expect(e).toMatchObject({ name: 'ServiceQuotaExceededException', status: 400, fault: 'client' });
      expect(e.message).toContain('maximum number of concurrent model customization jobs (1)');
      stack.emulator.faults.failJob(running.jobName!, 'cleanup');
      // Once the running job has ended, a new one is accepted.
      await createJob(stack, jobInput(train));
    } finally {
      stack.emulator.faults.setQuotas({ concurrentJobs: 2 });
    }
  });

  it('answers 404 ResourceNotFoundException for unknown jobs and models, and decodes ARNs in paths', async () => {
    const job = await serviceError(
      stack.bedrock.send(
        new GetModelCustomizationJobCommand({
          jobIdentifier:
            'arn:aws:bedrock:us-east-1:000000000000:model-customization-job/amazon.titan-text-lite-v1:0:4k/abcdef123456',
        }),
      ),
    );
    expect(job).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    expect(job.message).toContain(
      'model-customization-job/amazon.titan-text-lite-v1:0:4k/abcdef123456 could not be found',
    );
    const model = await serviceError(
      stack.bedrock.send(new GetCustomModelCommand({ modelIdentifier: 'nothing-here' })),
    );
    expect(model).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('gets a job by name as well as by ARN', async () => {
    const input = jobInput(train);
    const arn = await createJob(stack, input);
    const byName = await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: input.jobName }));
    expect(byName.jobArn).toBe(arn);
    await waitForJob(stack, arn, ['Completed', 'Failed'], 30_000);
  });
});
