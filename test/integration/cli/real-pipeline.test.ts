import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BedrockClient, GetCustomModelCommand, GetProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
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

  it('given a dataset, when the user runs `btp run`, asks the model, then `btp cleanup --yes`, then the run succeeds, the emulator answers, and its throughput and model are gone from Bedrock', async () => {
    const file = path.join(dir, 'cli-sample.jsonl');
    writeFileSync(file, sampleJsonl(150));
    // A time to live far past the test: on the fast clock the default 2 hours pass in seconds.
    const config = path.join(dir, 'run.json');
    writeFileSync(config, JSON.stringify({ provisioning: { ttlHours: 10_000 } }));
    const { stdout } = await btp('run', file, '--config', config, '--json', '--poll-ms', '200');
    const finalRun = (
      JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
        run: { runId: string; status: string; provisionedModelArn?: string; modelArn?: string };
      }
    ).run;
    expect(finalRun.status).toBe('succeeded');
    expect(finalRun.provisionedModelArn).toMatch(/:provisioned-model\//);

    // The model answers through the emulator's InvokeModel, and the CLI says no model ran.
    const asked = await btp('invoke', finalRun.runId, '日本の首都はどこですか？', '--json', '--max-tokens', '64');
    const answer = JSON.parse(asked.stdout) as { modelId: string; answer: string; note?: string; prompt: string };
    expect(answer).toMatchObject({ modelId: finalRun.provisionedModelArn, prompt: '日本の首都はどこですか？' });
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
    expect(refused?.stderr).toMatch(/has no throughput: it was deleted by `btp cleanup`/);
    const bedrock = new BedrockClient({
      endpoint: stack.endpoints.bedrock,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    await expect(
      bedrock.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: finalRun.provisionedModelArn! })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      bedrock.send(new GetCustomModelCommand({ modelIdentifier: finalRun.modelArn! })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    bedrock.destroy();
  }, 600_000);
});
