import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BedrockClient, GetCustomModelCommand, GetCustomModelDeploymentCommand } from '@aws-sdk/client-bedrock';
import { startStack, LOCAL_CREDENTIALS, type Stack } from '../../../local/stack';
import { sampleJsonl } from '../../../local/sample/generate';
import { stackEnv } from './cli-harness';

const root = path.resolve(__dirname, '..', '..', '..');
const run = promisify(execFile);

/** `npx btp` as a separate process against the whole pipeline running in the local stack (no fakes). */
describe('btp against the real pipeline', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    stack = await startStack({ retryDelaySeconds: 1 });
    dir = mkdtempSync(path.join(tmpdir(), 'btp-real-'));
  }, 60000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const btp = (...args: string[]) =>
    run('npx', ['btp', ...args], {
      cwd: root,
      env: { ...process.env, ...stackEnv(stack), NODE_OPTIONS: '' },
      maxBuffer: 16 * 1024 * 1024,
    });

  it('given a dataset, when the user runs `btp run` with the default configuration, asks the model, then `btp cleanup --yes`, then Nova Micro is fine-tuned and deployed, the emulator answers through its deployment, and the deployment and the model are gone from Bedrock', async () => {
    const file = path.join(dir, 'cli-sample.jsonl');
    writeFileSync(file, sampleJsonl(150));
    // (a deployment has no time to live: the default configuration's model stays served past the test)
    const { stdout } = await btp('run', file, '--json', '--poll-ms', '200');
    const finalRun = (
      JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
        run: { runId: string; status: string; provisionedModelArn?: string; deploymentArn?: string; modelArn?: string };
      }
    ).run;
    expect(finalRun.status).toBe('succeeded');
    expect(finalRun.modelArn).toMatch(/:custom-model\/amazon\.nova-micro-v1:0:128k\//);
    expect(finalRun.deploymentArn).toMatch(/:custom-model-deployment\/[a-z0-9]{12}$/);
    expect(finalRun.provisionedModelArn).toBeUndefined(); // no hourly Provisioned Throughput bill

    // The model answers through the emulator's InvokeModel on its deployment (Nova's bodies), and the CLI says no
    // model ran.
    const asked = await btp('invoke', finalRun.runId, '日本の首都はどこですか？', '--json', '--max-tokens', '64');
    const answer = JSON.parse(asked.stdout) as { modelId: string; answer: string; note?: string; prompt: string };
    expect(answer).toMatchObject({ modelId: finalRun.deploymentArn, prompt: '日本の首都はどこですか？' });
    expect(answer.answer.length).toBeGreaterThan(0);
    expect(answer.note).toMatch(/Bedrock emulator answered, no model ran/);
    expect(asked.stderr).toMatch(/note: local stack: the Bedrock emulator answered/);

    await btp('cleanup', finalRun.runId, '--yes');
    // After the cleanup there is nothing to chat with, and the CLI says why and what to do.
    const refused = await btp('chat', finalRun.runId, '質問').then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/has no deployment: it was deleted by `btp cleanup`/);
    const bedrock = new BedrockClient({
      endpoint: stack.endpoints.bedrock,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    await expect(
      bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: finalRun.deploymentArn! })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      bedrock.send(new GetCustomModelCommand({ modelIdentifier: finalRun.modelArn! })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    bedrock.destroy();
  }, 600_000);
});
