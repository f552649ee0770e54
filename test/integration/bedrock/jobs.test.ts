import {
  CreateModelCustomizationJobCommand,
  DeleteCustomModelCommand,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  ListCustomModelsCommand,
  ListModelCustomizationJobsCommand,
  StopModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  BUCKET,
  LITE,
  createJob,
  getText,
  jobInput,
  promptCompletion,
  putJsonl,
  serviceError,
  startStack,
  waitForJob,
  type Stack,
} from './harness';

describe('customization job lifecycle through the real Bedrock client', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Jobs left running by one test must not trip the concurrent-job quota in the next.
    stack = await startStack({ quotas: { concurrentJobs: 10 } });
  });
  afterAll(() => stack.close());

  it('given a valid dataset, a job shows InProgress, completes, writes its metrics to S3 and yields an Active custom model', async () => {
    const train = await putJsonl(stack, 'lifecycle/train.jsonl', promptCompletion(40));
    const valid = await putJsonl(stack, 'lifecycle/valid.jsonl', promptCompletion(5));
    const input = jobInput(train, {
      validationDataConfig: { validators: [{ s3Uri: valid }] },
      outputDataConfig: { s3Uri: `s3://${BUCKET}/lifecycle/out` },
      hyperParameters: { epochCount: '3', batchSize: '2', learningRate: '0.00002' },
    });
    const jobArn = await createJob(stack, input);
    expect(jobArn).toMatch(
      new RegExp(`^arn:aws:bedrock:us-east-1:000000000000:model-customization-job/${LITE}/[a-z0-9]{12}$`),
    );

    const first = await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    expect(first.status).toBe('InProgress');
    expect(first.creationTime).toBeInstanceOf(Date);
    expect(first.outputModelArn).toBeUndefined();

    const done = await waitForJob(stack, jobArn);
    expect(done).toMatchObject({
      status: 'Completed',
      jobName: input.jobName,
      outputModelName: input.customModelName,
      customizationType: 'FINE_TUNING',
      baseModelArn: `arn:aws:bedrock:us-east-1::foundation-model/${LITE}`,
      hyperParameters: { epochCount: '3', batchSize: '2', learningRate: '0.00002', learningRateWarmupSteps: '5' },
      validationDataConfig: { validators: [{ s3Uri: valid }] },
    });
    expect(done.endTime!.getTime()).toBeGreaterThanOrEqual(done.creationTime!.getTime());
    expect(typeof done.trainingMetrics!.trainingLoss).toBe('number');
    expect(done.validationMetrics).toHaveLength(1);
    expect(done.validationMetrics![0]!.validationLoss).toBeGreaterThan(done.trainingMetrics!.trainingLoss!);

    // Output layout of docs/bedrock-api.md §9: model-customization-job-<id>/training_artifacts/...,
    // validation_artifacts/...
    const id = jobArn.split('/').pop();
    const prefix = `lifecycle/out/model-customization-job-${id}`;
    const steps = (await getText(stack, `${prefix}/training_artifacts/step_wise_training_metrics.csv`))
      .trim()
      .split('\n');
    expect(steps[0]).toBe('step_number,epoch_number,training_loss,perplexity');
    // 40 records at batch size 2 = 20 steps per epoch, 3 epochs.
    expect(steps).toHaveLength(1 + 60);
    expect(steps[1]).toMatch(/^0,0,\d+\.\d+,\d+\.\d+$/);
    const losses = steps.slice(1).map((l) => Number(l.split(',')[2]));
    expect(losses.at(-1)).toBe(done.trainingMetrics!.trainingLoss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const validation = (
      await getText(stack, `${prefix}/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`)
    )
      .trim()
      .split('\n');
    expect(validation[0]).toBe('step_number,epoch_number,validation_loss,perplexity');
    expect(validation).toHaveLength(1 + 3);
    // The write probe is cleaned up.
    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'lifecycle/out' }));
    expect(listed.Contents!.map((o) => o.Key)).not.toContain('lifecycle/out/.write_access_check_file.tmp');

    const model = await stack.bedrock.send(new GetCustomModelCommand({ modelIdentifier: done.outputModelArn! }));
    expect(model).toMatchObject({
      modelName: input.customModelName,
      modelStatus: 'Active',
      jobArn,
      trainingMetrics: done.trainingMetrics,
    });
    const byName = await stack.bedrock.send(new GetCustomModelCommand({ modelIdentifier: input.customModelName! }));
    expect(byName.modelArn).toBe(done.outputModelArn);

    // EventBridge-shaped events with detail.jobStatus (docs/bedrock-api.md §10).
    const mine = stack.events.filter((e) => e.detail.jobArn === jobArn);
    expect(mine.map((e) => e.detail.jobStatus)).toEqual(['InProgress', 'Completed']);
    expect(mine[1]).toMatchObject({
      source: 'aws.bedrock',
      'detail-type': 'Model Customization Job State Change',
      account: '000000000000',
      region: 'us-east-1',
      resources: [jobArn],
      detail: { jobName: input.jobName, outputModelArn: done.outputModelArn },
    });
    expect(mine[1]!.detail.endTime).toBe(done.endTime!.toISOString());
  });

  it('gives the same loss curve for the same data and hyperparameters, and a different one for a higher learning rate', async () => {
    const train = await putJsonl(stack, 'curve/train.jsonl', promptCompletion(10));
    const a = await waitForJob(
      stack,
      await createJob(stack, jobInput(train, { hyperParameters: { epochCount: '2', learningRate: '0.00001' } })),
    );
    const b = await waitForJob(
      stack,
      await createJob(stack, jobInput(train, { hyperParameters: { epochCount: '2', learningRate: '0.00001' } })),
    );
    const c = await waitForJob(
      stack,
      await createJob(stack, jobInput(train, { hyperParameters: { epochCount: '2', learningRate: '0.0001' } })),
    );
    expect(a.trainingMetrics).toEqual(b.trainingMetrics);
    expect(c.trainingMetrics!.trainingLoss).not.toBe(a.trainingMetrics!.trainingLoss);
  });

  it('replays a clientRequestToken: the same job comes back and nothing new is created', async () => {
    const train = await putJsonl(stack, 'replay/train.jsonl', promptCompletion(3));
    const input = jobInput(train, { clientRequestToken: 'run-42-submit' });
    const before = (await stack.bedrock.send(new ListModelCustomizationJobsCommand({}))).modelCustomizationJobSummaries!
      .length;
    const first = await createJob(stack, input);
    const again = await createJob(stack, input);
    expect(again).toBe(first);
    const after = (await stack.bedrock.send(new ListModelCustomizationJobsCommand({}))).modelCustomizationJobSummaries!
      .length;
    expect(after).toBe(before + 1);
    expect(
      (await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: first }))).clientRequestToken,
    ).toBe('run-42-submit');
    // Without the token, the same name is a new request, and the name is taken.
    const dup = await serviceError(
      stack.bedrock.send(new CreateModelCustomizationJobCommand({ ...input, clientRequestToken: undefined })),
    );
    expect(dup).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: 'The provided job name is currently in use.',
    });
  });

  it('makes one job of two identical requests that arrive together, by token or by name', async () => {
    const train = await putJsonl(stack, 'together/train.jsonl', promptCompletion(10));
    const sameToken = jobInput(train, { clientRequestToken: 'together-token-1' });
    const [a, b] = await Promise.all([createJob(stack, sameToken), createJob(stack, sameToken)]);
    expect(a).toBe(b);

    const sameName = jobInput(train);
    const outcomes = await Promise.allSettled([
      stack.bedrock.send(new CreateModelCustomizationJobCommand({ ...sameName, clientRequestToken: 'together-a' })),
      stack.bedrock.send(new CreateModelCustomizationJobCommand({ ...sameName, clientRequestToken: 'together-b' })),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({
      name: 'ValidationException',
      message: 'The provided job name is currently in use.',
    });
    const listed = await stack.bedrock.send(new ListModelCustomizationJobsCommand({ nameContains: sameName.jobName }));
    expect(listed.modelCustomizationJobSummaries?.filter((j) => j.jobName === sameName.jobName)).toHaveLength(1);
  });

  it('lists jobs and custom models with filters, sort and pagination', async () => {
    const train = await putJsonl(stack, 'list/train.jsonl', promptCompletion(2));
    const arns = [];
    for (const n of [1, 2, 3]) {
      arns.push(
        await createJob(stack, jobInput(train, { jobName: `listed-${n}`, customModelName: `listed-model-${n}` })),
      );
      await waitForJob(stack, arns.at(-1)!);
    }
    const page1 = await stack.bedrock.send(
      new ListModelCustomizationJobsCommand({ nameContains: 'listed-', maxResults: 2, sortOrder: 'Ascending' }),
    );
    expect(page1.modelCustomizationJobSummaries!.map((j) => j.jobName)).toEqual(['listed-1', 'listed-2']);
    expect(page1.nextToken).toBeTruthy();
    const page2 = await stack.bedrock.send(
      new ListModelCustomizationJobsCommand({
        nameContains: 'listed-',
        maxResults: 2,
        sortOrder: 'Ascending',
        nextToken: page1.nextToken,
      }),
    );
    expect(page2.modelCustomizationJobSummaries!.map((j) => j.jobName)).toEqual(['listed-3']);
    expect(page2.nextToken).toBeUndefined();
    expect(page2.modelCustomizationJobSummaries![0]).toMatchObject({
      status: 'Completed',
      customModelName: 'listed-model-3',
    });
    const failed = await stack.bedrock.send(
      new ListModelCustomizationJobsCommand({ nameContains: 'listed-', statusEquals: 'Failed' }),
    );
    expect(failed.modelCustomizationJobSummaries).toEqual([]);

    const models = await stack.bedrock.send(
      new ListCustomModelsCommand({ nameContains: 'listed-model', sortOrder: 'Descending' }),
    );
    expect(models.modelSummaries!.map((m) => m.modelName)).toEqual([
      'listed-model-3',
      'listed-model-2',
      'listed-model-1',
    ]);
    expect(models.modelSummaries![0]).toMatchObject({
      baseModelName: 'Titan Text G1 - Lite',
      modelStatus: 'Active',
      ownerAccountId: '000000000000',
    });

    const bad = await serviceError(stack.bedrock.send(new ListModelCustomizationJobsCommand({ maxResults: 0 })));
    expect(bad).toMatchObject({ name: 'ValidationException', status: 400 });
  });

  it('deletes a custom model, after which it is not found', async () => {
    const train = await putJsonl(stack, 'delete/train.jsonl', promptCompletion(2));
    const done = await waitForJob(stack, await createJob(stack, jobInput(train, { customModelName: 'to-delete' })));
    await stack.bedrock.send(new DeleteCustomModelCommand({ modelIdentifier: done.outputModelArn! }));
    const gone = await serviceError(stack.bedrock.send(new GetCustomModelCommand({ modelIdentifier: 'to-delete' })));
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    // The name is free again.
    await waitForJob(stack, await createJob(stack, jobInput(train, { customModelName: 'to-delete' })));
  });
});

describe('stopping a job', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A slower clock keeps the job InProgress long enough to stop it.
    stack = await startStack({ simulatedHoursPerSecond: 600 });
  });
  afterAll(() => stack.close());

  it('goes InProgress -> Stopping -> Stopped, creates no custom model, and cannot be stopped twice', async () => {
    const train = await putJsonl(stack, 'stop/train.jsonl', promptCompletion(3));
    const input = jobInput(train);
    const jobArn = await createJob(stack, input);
    // Stop by name: the identifier is the job ARN or its name.
    await stack.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: input.jobName }));
    expect((await stack.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))).status).toBe(
      'Stopping',
    );
    const stopped = await waitForJob(stack, jobArn, ['Stopped']);
    expect(stopped.endTime).toBeInstanceOf(Date);
    expect(stopped.outputModelArn).toBeUndefined();
    expect(stack.events.filter((e) => e.detail.jobArn === jobArn).map((e) => e.detail.jobStatus)).toEqual([
      'InProgress',
      'Stopping',
      'Stopped',
    ]);
    const again = await serviceError(
      stack.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn })),
    );
    expect(again).toMatchObject({ name: 'ConflictException', status: 400 });
    const models = await stack.bedrock.send(new ListCustomModelsCommand({ nameContains: input.customModelName }));
    expect(models.modelSummaries).toEqual([]);
  });
});
