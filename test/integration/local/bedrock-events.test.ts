import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { BedrockClient, CreateModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { startStack, type Stack, LOCAL_CREDENTIALS } from '../../../local/stack';
import { TITAN_RECIPE_DATE } from '../../../shared/catalog';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ functions: 'none', catalogDate: TITAN_RECIPE_DATE });
}, 60000);
afterAll(() => stack?.stop());

describe('the Bedrock emulator in the local stack', () => {
  it("delivers job state-change events to the queue serverless.yml's EventBridge rule targets", async () => {
    const bucket = stack.bucketName('ArtifactsBucket');
    const lines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ prompt: `質問${i}`, completion: `回答${i}` }),
    ).join('\n');
    await stack.clients.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'runs/r1/stages/0/prepared/train.jsonl', Body: lines }),
    );
    const bedrock = new BedrockClient({
      endpoint: stack.endpoints.bedrock,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    // A Titan job: the stack plays Bedrock as it was in 2024 (catalogDate).
    const { jobArn } = await bedrock.send(
      new CreateModelCustomizationJobCommand({
        jobName: 'events-test-job',
        customModelName: 'events-test-model',
        roleArn: stack.functionEnv('submit').BTP_BEDROCK_ROLE_ARN,
        baseModelIdentifier: 'amazon.titan-text-lite-v1:0:4k',
        customizationType: 'FINE_TUNING',
        trainingDataConfig: { s3Uri: `s3://${bucket}/runs/r1/stages/0/prepared/train.jsonl` },
        outputDataConfig: { s3Uri: `s3://${bucket}/runs/r1/stages/0/output/` },
        hyperParameters: { epochCount: '1', batchSize: '1', learningRate: '0.00001' },
      }),
    );
    bedrock.destroy();
    const statuses: string[] = [];
    const end = Date.now() + 30000;
    while (!statuses.includes('Completed') && Date.now() < end) {
      const out = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queueUrl('MonitorQueue'),
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      for (const m of out.Messages ?? []) {
        const event = JSON.parse(m.Body!);
        expect(event['detail-type']).toBe('Model Customization Job State Change');
        expect(event.source).toBe('aws.bedrock');
        expect(event.detail.jobArn).toBe(jobArn);
        statuses.push(event.detail.jobStatus);
      }
    }
    expect(statuses).toContain('Completed');
  });
});
