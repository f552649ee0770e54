import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const LOCAL_ACCOUNT = '000000000000';

export interface SqsEmulator {
  endpoint: string;
  port: number;
  /** Queue URLs point at 127.0.0.1, as those fauxqs returns (CreateQueue, GetQueueUrl, ListQueues) do. */
  queueUrl(name: string): string;
  queueArn(name: string, region?: string): string;
  close(): Promise<void>;
}

/**
 * SQS (and SNS) on 127.0.0.1 backed by fauxqs, in a child process of the same Node (it needs Node >= 22.6, which
 * the project's npm scripts bring). Both SQS protocols are answered: AWS JSON 1.0 by fauxqs, the older query protocol
 * by a front in the child (sqs-query.ts). State is kept in `dataDir` when given.
 */
export async function startSqs(opts: { dataDir?: string; port?: number } = {}): Promise<SqsEmulator> {
  let dataDir = '';
  if (opts.dataDir) {
    dataDir = path.join(opts.dataDir, 'sqs');
    mkdirSync(dataDir, { recursive: true });
  }
  // The child imports sqs-query.ts: Node strips its types by default from 22.18, earlier 22s need the flag.
  const stripTypes = (process.features as { typescript?: unknown }).typescript ? [] : ['--experimental-strip-types'];
  const child = spawn(process.execPath, [...stripTypes, path.join(__dirname, 'sqs-child.mjs')], {
    env: {
      ...process.env,
      FAUXQS_PORT: String(opts.port ?? 0),
      FAUXQS_DATA_DIR: dataDir,
      // sqs-query.ts has ES module syntax in a package without "type": Node says so once, and loads it.
      NODE_OPTIONS: '--disable-warning=ExperimentalWarning --disable-warning=MODULE_TYPELESS_PACKAGE_JSON',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    child.once('exit', (code) =>
      reject(
        new Error(
          `SQS emulator (fauxqs) exited with code ${code} before it started; it needs Node >= 22.6, this is ${process.version}`,
        ),
      ),
    );
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    queueUrl: (name) => `${endpoint}/${LOCAL_ACCOUNT}/${name}`,
    queueArn: (name, region = 'us-east-1') => `arn:aws:sqs:${region}:${LOCAL_ACCOUNT}:${name}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
