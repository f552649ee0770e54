import { GetCustomModelCommand, GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import {
  BUCKET,
  LITE,
  createJob,
  jobInput,
  promptCompletion,
  putJsonl,
  serviceError,
  startStack,
  waitForJob,
  type Stack,
} from './harness';

/**
 * Customizing a custom model (docs/bedrock-api.md §12: baseModelIdentifier takes a custom-model ARN): the seed recipe's
 * CPT -> FT chain.
 */
describe('a job on a custom model through the real Bedrock client', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ quotas: { concurrentJobs: 10 } });
  });
  afterAll(() => stack.close());

  it('given a continued pre-training model, a fine-tuning job on its ARN completes and reports it as its base model', async () => {
    const corpus = await putJsonl(
      stack,
      'chain/corpus.jsonl',
      Array.from({ length: 30 }, (_, i) => ({ input: `日本の首都は東京である。文 ${i}。` })),
    );
    const cpt = await createJob(
      stack,
      jobInput(corpus, {
        customizationType: 'CONTINUED_PRE_TRAINING',
        outputDataConfig: { s3Uri: `s3://${BUCKET}/chain/out` },
      }),
    );
    const first = await waitForJob(stack, cpt);
    expect(first).toMatchObject({
      status: 'Completed',
      customizationType: 'CONTINUED_PRE_TRAINING',
      baseModelArn: `arn:aws:bedrock:us-east-1::foundation-model/${LITE}`,
    });

    const instructions = await putJsonl(stack, 'chain/train.jsonl', promptCompletion(20));
    const ft = await createJob(
      stack,
      jobInput(instructions, {
        baseModelIdentifier: first.outputModelArn!,
        outputDataConfig: { s3Uri: `s3://${BUCKET}/chain/out` },
      }),
    );
    const second = await waitForJob(stack, ft);
    expect(second).toMatchObject({
      status: 'Completed',
      customizationType: 'FINE_TUNING',
      baseModelArn: first.outputModelArn,
    });
    expect(second.outputModelArn).toMatch(new RegExp(`custom-model/${LITE}/[a-z0-9]{12}$`));
    const model = await stack.bedrock.send(new GetCustomModelCommand({ modelIdentifier: second.outputModelArn! }));
    expect(model.baseModelArn).toBe(first.outputModelArn);
  });

  it('refuses a custom-model ARN that does not exist, as an invalid model identifier', async () => {
    const train = await putJsonl(stack, 'chain/missing.jsonl', promptCompletion(10));
    const missing = `arn:aws:bedrock:us-east-1:000000000000:custom-model/${LITE}/abcdefghijkl`;
    const err = await serviceError(createJob(stack, jobInput(train, { baseModelIdentifier: missing })));
    expect(err).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(err.message).toMatch(/model identifier is invalid/);
    await expect(stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: 'nope' }))).rejects.toThrow();
  });
});
