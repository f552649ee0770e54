import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startStack, writeEnvFile, type Stack } from '../../../local/stack';
import { resolveLayers, runIdFor } from '../../../shared/prep/run-setup';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import { btp, seedRun, stackEnv, type Fakes } from './cli-harness';
import { stage0 } from '../../helpers/orchestration/fakes';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * `btp run` uploads and follows. No functions run here: a stand-in for the pipeline starts the run when the upload
 * lands and moves it through its stages, as ingest, transform, split, submit and monitor would.
 */
describe('btp run, and the btp bin', () => {
  let stack: Stack;
  let store: DynamoRunStore;
  let dir: string;
  const fakes: Fakes = { deleted: [], answers: [] };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    stack = await startStack({ functions: 'none' });
    store = new DynamoRunStore(
      DynamoDBDocumentClient.from(stack.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
      stack.tableName('RunsTable'),
    );
    dir = mkdtempSync(path.join(tmpdir(), 'btp-run-'));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Plays the pipeline for one upload: waits for the object, then walks the run to `end`. */
  async function pipelineFor(key: string, runId: string, end: 'succeeded' | 'failed') {
    const Bucket = stack.bucketName('DatasetsBucket');
    for (let i = 0; i < 100; i++) {
      const there = await stack.clients.s3.send(new HeadObjectCommand({ Bucket, Key: key })).then(
        () => true,
        () => false,
      );
      if (there) break;
      await sleep(100);
    }
    const ev = (type: string) => ({ type });
    await store.create(seedRun(stack, runId, { source: { bucket: Bucket, key } }), ev('run.created'));
    await store.transition(
      runId,
      'requested',
      'preparing',
      { stages: stage0(runId, { chunks: 2 }) },
      ev('ingest.planned'),
    );
    const counts = { input: 3, kept: 2, filtered: 1, rejected: 0, byReason: { 'filtered:too_long_chars': 1 } };
    for (const index of [0, 1]) {
      await sleep(300);
      await store.putChunk({
        runId,
        stage: 0,
        index,
        counts,
        keptKey: `k${index}`,
        metaKey: `m${index}`,
        rejectsKey: `r${index}`,
        doneAt: new Date().toISOString(),
      });
    }
    await store.transition(runId, 'preparing', 'splitting', {}, ev('chunks.done'));
    const prepared = { chunks: 2, counts: { ...counts, train: 1, validation: 1, test: 0 } };
    await store.transition(
      runId,
      'splitting',
      'submitting',
      { stages: stage0(runId, prepared) },
      ev('dataset.prepared'),
    );
    await sleep(200);
    if (end === 'failed') {
      await store.transition(
        runId,
        'submitting',
        'failed',
        { failure: { stage: 'submit', reason: 'ValidationException: too few records', at: new Date().toISOString() } },
        ev('job.rejected'),
      );
      return;
    }
    await store.transition(
      runId,
      'submitting',
      'training',
      { stages: stage0(runId, { ...prepared, job: { jobArn: 'arn:job/j1', jobStatus: 'InProgress' } }) },
      ev('job.submitted'),
    );
    await sleep(300);
    const done = { status: 'done', jobArn: 'arn:job/j1', jobStatus: 'Completed', modelArn: 'arn:model/m1' } as const;
    await store.transition(
      runId,
      'training',
      'succeeded',
      { modelArn: 'arn:model/m1', stages: stage0(runId, { ...prepared, job: done }) },
      ev('job.completed'),
    );
  }

  it('uploads the dataset and its configuration, follows the run with progress, and ends with a summary', async () => {
    // given a dataset and a run configuration
    const file = path.join(dir, 'qa.jsonl');
    writeFileSync(file, '{"instruction":"a","output":"b"}\n');
    const config = path.join(dir, 'run.json');
    writeFileSync(config, JSON.stringify({ split: { train: 1, validation: 1, test: 0 } }));

    // when the data team runs it
    const [r] = await Promise.all([
      btp(stack, fakes, 'run', file, '--config', config, '--poll-ms', '50', '--json'),
      pipelineFor('datasets/qa.jsonl', 'run-cli-1', 'succeeded'),
    ]);

    // then it exits 0 with the final run, having shown progress on stderr
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      runId: 'run-cli-1',
      status: 'succeeded',
      run: { runId: 'run-cli-1', counts: { input: 3 } },
    });
    expect(r.stderr).toContain('upload   [########################] 100%');
    expect(r.stderr).toMatch(/prepare {2}\[#+\.*\]\s+\d+%\s+[12]\/2 chunks/);
    expect(r.stderr).toContain('run run-cli-1 started');
    const sidecar = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.bucketName('DatasetsBucket'), Key: 'datasets/qa.jsonl.run.json' }),
    );
    expect(JSON.parse(await sidecar.Body!.transformToString())).toEqual({
      split: { train: 1, validation: 1, test: 0 },
    });
  });

  it('exits 1 with the failure and the next step when the run fails', async () => {
    const file = path.join(dir, 'small.jsonl');
    writeFileSync(file, '{"instruction":"a","output":"b"}\n');
    const [r] = await Promise.all([
      btp(stack, fakes, 'run', file, '--poll-ms', '50'),
      pipelineFor('datasets/small.jsonl', 'run-cli-2', 'failed'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('failure:     [submit] ValidationException: too few records');
    expect(r.stdout).toContain('next:        `btp resume run-cli-2 --from train`');
  });

  it('does not reuse the configuration an earlier `btp run --config` of the same file left', async () => {
    // given the sidecar of an earlier run with a configuration
    const Bucket = stack.bucketName('DatasetsBucket');
    await stack.clients.s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'datasets/again.jsonl.run.json',
        Body: JSON.stringify({ split: { train: 1, validation: 1, test: 0 } }),
      }),
    );
    const file = path.join(dir, 'again.jsonl');
    writeFileSync(file, '{"instruction":"again","output":"b"}\n');

    // when the file is run without --config
    const [r] = await Promise.all([
      btp(stack, fakes, 'run', file, '--poll-ms', '50', '--no-follow'),
      pipelineFor('datasets/again.jsonl', 'run-cli-3', 'failed'),
    ]);

    // then the sidecar is gone before the upload, and the run says so
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('removed the run configuration s3://');
    expect(r.stderr.indexOf('removed the run configuration')).toBeLessThan(r.stderr.indexOf('uploaded s3://'));
    const left = await stack.clients.s3
      .send(new HeadObjectCommand({ Bucket, Key: 'datasets/again.jsonl.run.json' }))
      .then(
        () => true,
        () => false,
      );
    expect(left).toBe(false);
  });

  it('says at once that an unchanged upload replays an earlier run, and follows that run', async () => {
    // given a run made earlier from the same bytes, key and configuration (ingest's run id for them)
    const Bucket = stack.bucketName('DatasetsBucket');
    const body = '{"instruction":"same","output":"b"}\n';
    const file = path.join(dir, 'same.jsonl');
    writeFileSync(file, body);
    const source = { bucket: Bucket, key: 'datasets/same.jsonl', etag: createHash('md5').update(body).digest('hex') };
    const runId = runIdFor(source, resolveLayers(source.key, undefined, undefined));
    const long = new Date(Date.now() - 3_600_000).toISOString();
    const failure = { stage: 'submit', reason: 'ValidationException: too few records', at: long };
    await store.create(seedRun(stack, runId, { source, status: 'failed', createdAt: long, updatedAt: long, failure }), {
      type: 'run.created',
    });

    // when the same file is run again
    const began = Date.now();
    const r = await btp(stack, fakes, 'run', file, '--poll-ms', '50');

    // then it says so without waiting for a run that will not start, and ends with that run's summary and exit code
    expect(Date.now() - began).toBeLessThan(20_000);
    expect(r.stderr).toContain(`is unchanged since run ${runId}`);
    expect(r.stderr).toContain('the upload starts no new run');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`run id:      ${runId}`);
    expect(r.stdout).toContain('failure:     [submit] ValidationException: too few records');
  }, 30_000);

  it('refuses a configuration that is not valid before uploading anything', async () => {
    const file = path.join(dir, 'x.jsonl');
    writeFileSync(file, '{}\n');
    const config = path.join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ split: { train: -1 } }));
    const r = await btp(stack, fakes, 'run', file, '--config', config);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a valid run configuration: split.train:');
    expect((await btp(stack, fakes, 'run', path.join(dir, 'missing.jsonl'))).stderr).toContain('dataset file');
  });

  it('refuses a prompt file given to upload whose line is bad, naming the file, line and field, before uploading', async () => {
    const file = path.join(dir, 'p.jsonl');
    writeFileSync(file, '{"instruction":"a","output":"b"}\n');
    const prompts = path.join(dir, 'prompts.jsonl');
    writeFileSync(
      prompts,
      `${JSON.stringify({ prompt: '質問', category: 'open_qa' })}\n{"prompt":"質問","categry":"x"}\n`,
    );
    const config = path.join(dir, 'prompts.json');
    writeFileSync(config, JSON.stringify({ evaluation: { promptFile: { key: 'inputs/prompts.jsonl' } } }));
    const r = await btp(stack, fakes, 'run', file, '--config', config, '--input', `inputs/prompts.jsonl=${prompts}`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${prompts} line 2: field categry: Unrecognized key: "categry"`);
    const Bucket = stack.bucketName('DatasetsBucket');
    for (const Key of ['inputs/prompts.jsonl', 'datasets/p.jsonl'])
      expect(
        await stack.clients.s3.send(new HeadObjectCommand({ Bucket, Key })).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
  });

  it('refuses a configuration whose model has reached end of life before uploading anything, naming the date and the successor', async () => {
    // given the 2024 recipe's model, on a stack that plays today's Bedrock
    const file = path.join(dir, 'titan.jsonl');
    writeFileSync(file, '{"instruction":"a","output":"b"}\n');
    const config = path.join(dir, 'titan.json');
    writeFileSync(config, JSON.stringify({ training: { baseModelId: 'amazon.titan-text-lite-v1:0:4k' } }));
    // when the data team runs it
    const r = await btp(stack, fakes, 'run', file, '--config', config);
    // then btp refuses at once, says why and what to use, and uploaded nothing (no run starts)
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /Titan Text G1 - Lite \(amazon\.titan-text-lite-v1:0:4k\) reached end of life on \d{4}-\d{2}-\d{2}/,
    );
    expect(r.stderr).toContain('use amazon.nova-micro-v1:0:128k (Nova Micro)');
    expect(r.stderr).toContain('--catalog-date');
    const Bucket = stack.bucketName('DatasetsBucket');
    for (const Key of ['datasets/titan.jsonl', 'datasets/titan.jsonl.run.json'])
      expect(
        await stack.clients.s3.send(new HeadObjectCommand({ Bucket, Key })).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
  });

  it('refuses a judge model the catalog does not know before uploading anything', async () => {
    const file = path.join(dir, 'judged.jsonl');
    writeFileSync(file, '{"instruction":"a","output":"b"}\n');
    const config = path.join(dir, 'judged.json');
    writeFileSync(config, JSON.stringify({ evaluation: { judge: { modelId: 'no.such-judge-v1:0' } } }));
    const r = await btp(stack, fakes, 'run', file, '--config', config);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('evaluation.judge.modelId no.such-judge-v1:0 is not a model the catalog knows');
    expect(r.stderr).toContain('set evaluation.judge.modelId to one of');
    const Bucket = stack.bucketName('DatasetsBucket');
    expect(
      await stack.clients.s3.send(new HeadObjectCommand({ Bucket, Key: 'datasets/judged.jsonl' })).then(
        () => true,
        () => false,
      ),
    ).toBe(false);
  });

  it('npx btp works as a separate process with --endpoint-env', async () => {
    const envFile = path.join(dir, 'stack.env');
    const env = stackEnv(stack);
    writeEnvFile(envFile, env);
    const { stdout } = await promisify(execFile)(
      'npx',
      ['--no-install', 'btp', '--endpoint-env', envFile, 'list', '--status', 'succeeded', '--json'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        timeout: 60_000,
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ runs: [{ runId: 'run-cli-1', status: 'succeeded' }] });
  }, 90_000);
});
