import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildContext } from '../../../cli/context';
import type { Io } from '../../../cli/io';
import { runCli } from '../../../cli/program';

/** A port nothing listens on: bound once, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `.local/stack.env` outlives the stack that wrote it: with the stack stopped, `btp` must say so and how to start it,
 * not print a connection error with a hint about credentials.
 */
describe('btp with the env file of a stack that has stopped', () => {
  const saved = { ...process.env };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'btp-stale-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('says the stack is not running and to start it with npm run stack', async () => {
    // given an env file naming endpoints on a port nothing listens on
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const envFile = path.join(dir, 'stack.env');
    const env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ENDPOINT_URL_SQS: endpoint,
      BTP_RUNS_TABLE: 'runs',
      AWS_MAX_ATTEMPTS: '1',
    };
    writeFileSync(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    const err: string[] = [];
    const io: Io = { out: () => undefined, err: (t) => err.push(t), interactive: false, confirm: async () => false };

    // when a command reads the table
    const code = await runCli(['--endpoint-env', envFile, 'status', 'r-1'], {
      io,
      context: (o) => buildContext(o, {}),
    });

    // then it fails naming the endpoint, the file and the way out
    expect(code).toBe(1);
    const text = err.join('\n');
    expect(text).toContain(`nothing answers at ${endpoint.slice('http://'.length)}`);
    expect(text).toContain('stack.env');
    expect(text).toContain('the local stack that wrote it is not running');
    expect(text).toContain('npm run stack');
    expect(text).not.toContain('credentials');
  });
});
