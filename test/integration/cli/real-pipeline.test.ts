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

  it('given a dataset, when the user runs `btp run` then `btp cleanup --yes`, then the run succeeds and its throughput and model are gone from Bedrock', async () => {
    const file = path.join(dir, 'cli-sample.jsonl');
    writeFileSync(file, sampleJsonl(150));
    const { stdout } = await btp('run', file, '--json', '--poll-ms', '200');
    const finalRun = (
      JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
        run: { runId: string; status: string; provisionedModelArn?: string; modelArn?: string };
      }
    ).run;
    expect(finalRun.status).toBe('succeeded');
    expect(finalRun.provisionedModelArn).toMatch(/:provisioned-model\//);

    await btp('cleanup', finalRun.runId, '--yes');
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
  }, 120000);
});
