import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const dolly = path.resolve(root, '..', 'shared', 'data', 'databricks-dolly-15k-ja.jsonl');

/** Runs `npm start` as a user would, in a child process, and returns its exit code and output. */
function npmStart(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['start', '--silent', '--', ...args], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm start did not finish in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function field(out: string, label: string): string | undefined {
  return out.match(new RegExp(`^${label}:\\s+(.*)$`, 'm'))?.[1];
}

describe('npm start: a whole customization run through the local stack', () => {
  it('given the generated sample, when the user runs npm start, then the run succeeds with every record accounted for', async () => {
    const { code, out } = await npmStart([], 240_000);
    if (code !== 0) throw new Error(`npm start exited ${code}:\n${out}`);
    expect(out).toMatch(/no model is trained/i);
    expect(field(out, 'status')).toBe('succeeded');
    const records = field(out, 'records')!;
    const [, input, kept, filtered, rejected] = records
      .match(/input (\d+) = kept (\d+) \+ filtered (\d+) \+ rejected (\d+)/)!
      .map(Number);
    expect(input).toBe(401);
    expect(kept! + filtered! + rejected!).toBe(input);
    expect(filtered).toBeGreaterThanOrEqual(3); // the over-long, the empty and the duplicate record
    expect(field(out, 'job')).toMatch(/^arn:aws:bedrock:us-east-1:000000000000:model-customization-job\//);
    expect(field(out, 'model')).toMatch(/^arn:aws:bedrock:us-east-1:000000000000:custom-model\//);
    // The default: Nova Micro, served on demand by a custom model deployment (no Provisioned Throughput).
    expect(field(out, 'deployment')).toMatch(/^arn:aws:bedrock:us-east-1:000000000000:custom-model-deployment\//);
    expect(field(out, 'throughput')).toBeUndefined();
    expect(out).toMatch(/prepared\/train\.jsonl/);
    expect(out).toMatch(/manifest\.json/);
    expect(out).toMatch(/report\.html/); // written by the report function when it hears the run ended
  }, 300_000);

  (existsSync(dolly) ? it : it.skip)(
    'given databricks-dolly-15k-ja.jsonl, when the user runs npm start on it, then 10,000 / 1,000 / 50 records are split and the run succeeds',
    async () => {
      const { code, out } = await npmStart([dolly], 600_000);
      if (code !== 0) throw new Error(`npm start exited ${code}:\n${out}`);
      expect(field(out, 'status')).toBe('succeeded');
      const [, input, kept, filtered, rejected] = field(out, 'records')!
        .match(/input (\d+) = kept (\d+) \+ filtered (\d+) \+ rejected (\d+)/)!
        .map(Number);
      expect(input).toBe(15015);
      expect(kept! + filtered! + rejected!).toBe(15015);
      expect(field(out, 'split')).toBe('train 10000, validation 1000, test 50');
    },
    660_000,
  );
  if (!existsSync(dolly)) console.warn(`skipped: the dolly-15k-ja run needs ${dolly}`);
});
