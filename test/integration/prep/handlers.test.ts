import { readFileSync } from 'node:fs';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handler as ingestHandler } from '../../../services/ingest/handler';
import { handler as transformHandler } from '../../../services/transform/handler';
import { handler as splitHandler } from '../../../services/split/handler';
import { countsBalance } from '../../../shared/prep/counts';
import { DOLLY, describeWithData, shiftJis, toJsonArray, readJsonl } from '../../helpers/prep/fixtures';
import {
  lambdaContext,
  s3Notification,
  sqsEvent,
  sqsRecord,
  startPrepEnv,
  type PrepEnv,
} from '../../helpers/prep/emulated-env';
import { runCounts } from '../../../shared/runs/record';
import { ingest } from '../../../services/ingest/ingest';
import { buildDeps as ingestDeps } from '../../../services/ingest/deps';
import { buildMessage } from '../../../shared/messages/envelope';
import { StageRequested } from '../../../shared/messages/pipeline';

/**
 * The handlers against the emulators with the real SDK clients: S3 notification -> ingest -> transform queue ->
 * transform -> split queue -> split -> submit queue, reading what landed in S3, SQS and DynamoDB.
 */
let env: PrepEnv;
beforeAll(async () => {
  env = await startPrepEnv();
}, 60_000);
afterAll(async () => {
  await env?.stop();
});

async function deliver(handler: typeof ingestHandler, bodies: string[], name: string) {
  const out = [];
  for (const body of bodies) out.push(await handler(sqsEvent(sqsRecord(body, { queue: name })), lambdaContext(name)));
  return out;
}

async function runUpload(key: string, body: Buffer | string) {
  const { eTag, size } = await env.put(key, body);
  const ingestOut = await ingestHandler(
    sqsEvent(sqsRecord(s3Notification(env.buckets.datasets, key, size, eTag))),
    lambdaContext('ingest'),
  );
  const chunks = (await env.drain(env.queues.transform)).map((m) => m.body);
  await deliver(transformHandler, chunks.reverse(), 'transform');
  const done = (await env.drain(env.queues.split)).map((m) => m.body);
  await deliver(splitHandler, done, 'split');
  const submit = (await env.drain(env.queues.submit)).map(
    (m) => JSON.parse(m.body) as { runId: string; type: string; payload: { manifestKey: string } },
  );
  return { ingestOut, chunks, done, submit };
}

describe('ingest, transform and split handlers on the emulators', () => {
  it('acknowledges the S3 test event and dead-letters a record that is no message at all', async () => {
    const test = JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: new Date().toISOString(),
      Bucket: env.buckets.datasets,
    });
    const bad = sqsRecord('{"neither":"nor"}');
    const out = await ingestHandler(sqsEvent(sqsRecord(test), bad), lambdaContext('ingest'));
    expect(out.batchItemFailures).toEqual([]);
    const dlq = await env.drain(env.queues.dlq);
    expect(dlq.map((m) => m.body)).toEqual(['{"neither":"nor"}']);
  });

  it('a Shift_JIS upload fails its run with the line and a hint, and queues nothing', async () => {
    const body = shiftJis('{"instruction":"質問","input":"","output":"答え"}\n');
    const { submit, chunks } = await runUpload('datasets/sjis data.jsonl', body);
    expect(chunks).toHaveLength(0);
    expect(submit).toHaveLength(0);
    const failed = await env.runs.listByStatus('failed');
    expect(failed[0]).toMatchObject({
      source: { key: 'datasets/sjis data.jsonl' },
      failure: { stage: 'ingest', reason: expect.stringMatching(/line 1.*Shift_JIS/), location: { line: 1 } },
    });
  });

  it('bytes that are not UTF-8 deep in JSON Lines cut by ranges fail the run from their chunk, at their line in the file', async () => {
    const key = 'datasets/late break.jsonl';
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ instruction: `質問${i}`, input: '', output: `答え${i}` }),
    );
    const body = Buffer.from(lines.join('\n') + '\n');
    body[body.indexOf(Buffer.from('質問2499"'))] = 0xff; // line 2500, far past the head ingest reads
    await env.put(`${key}.run.json`, JSON.stringify({ prep: { chunkBytes: 20_000 } }));
    const { chunks, submit } = await runUpload(key, body);
    expect(chunks.length).toBeGreaterThan(5);
    expect(submit).toHaveLength(0);
    const failed = (await env.runs.listByStatus('failed')).find((r) => r.source?.key === key);
    expect(failed).toMatchObject({
      failure: {
        stage: 'transform',
        reason: expect.stringMatching(/not valid UTF-8: invalid byte sequence \(ff .*\) at line 2500, byte offset/),
        location: { line: 2500 },
      },
    });
    expect((await env.runs.listEvents(failed!.runId)).map((e) => e.type)).toContain('transform.failed');
  });

  it('a redelivered chunk is not transformed again: its record and its outputs stay as the first delivery left them', async () => {
    const key = 'datasets/redelivered.jsonl';
    const lines = Array.from({ length: 600 }, (_, i) =>
      JSON.stringify({ instruction: `質問${i % 500}`, input: '', output: `答え${i % 500}` }),
    );
    await env.put(
      `${key}.run.json`,
      JSON.stringify({ prep: { chunkBytes: 8_000 }, split: { train: 300, validation: 100, test: 10 } }),
    );
    const { eTag, size } = await env.put(key, lines.join('\n') + '\n');
    await ingestHandler(
      sqsEvent(sqsRecord(s3Notification(env.buckets.datasets, key, size, eTag))),
      lambdaContext('ingest'),
    );
    const chunks = (await env.drain(env.queues.transform)).map((m) => m.body);
    expect(chunks.length).toBeGreaterThan(3);
    await deliver(transformHandler, chunks, 'transform');
    const runId = (JSON.parse(chunks[0]!) as { runId: string }).runId;
    const recorded = await env.runs.listChunks(runId, 0);
    // Chunk 1's outputs, marked: a second transform would write them again, without the mark.
    const marked = [recorded[1]!.keptKey, recorded[1]!.metaKey, recorded[1]!.rejectsKey];
    for (const key of marked) {
      const body = await env.text(env.buckets.artifacts, key);
      await env.s3.send(
        new PutObjectCommand({
          Bucket: env.buckets.artifacts,
          Key: key,
          Body: body,
          ContentLength: Buffer.byteLength(body),
          Metadata: { written: 'first-delivery' },
        }),
      );
    }
    // Every chunk again, the second in a batch with a chunk of a run that does not exist.
    const other = JSON.stringify({ ...(JSON.parse(chunks[1]!) as object), runId: 'no-such-run' });
    await deliver(transformHandler, [chunks[0]!], 'transform');
    const batch = await transformHandler(
      sqsEvent(sqsRecord(chunks[1]!, { queue: 'transform' }), sqsRecord(other, { queue: 'transform' })),
      lambdaContext('transform'),
    );
    expect(batch.batchItemFailures).toEqual([]);
    await deliver(transformHandler, chunks.slice(2), 'transform');
    expect(await env.runs.listChunks(runId, 0)).toEqual(recorded);
    for (const key of marked) {
      const head = await env.s3.send(new HeadObjectCommand({ Bucket: env.buckets.artifacts, Key: key }));
      expect([key, head.Metadata?.written]).toEqual([key, 'first-delivery']);
    }
    const done = (await env.drain(env.queues.split)).map((m) => m.body);
    expect(done).toHaveLength(2 * chunks.length); // split is told again, which is harmless
    await deliver(splitHandler, done, 'split');
    const run = (await env.runs.get(runId))!;
    expect(runCounts(run)).toMatchObject({
      input: 600,
      kept: 500,
      filtered: 100,
      train: 300,
      validation: 100,
      test: 10,
    });
    expect(countsBalance(runCounts(run)!)).toBe(true);
    await env.drain(env.queues.submit);
  });
});

describe('a run ingest recorded and stopped before planning (the sweeper re-drives it)', () => {
  /**
   * Ingest as a function that dies when it first reads the dataset's bytes or, with `atWrite`, when it first moves
   * the run on: the run stays `requested`.
   */
  async function crashedIngest(key: string, body: string, atWrite = false) {
    const { eTag, size } = await env.put(key, body);
    const deps = ingestDeps(process.env);
    const stop = () => Promise.reject(new Error('the function was stopped here'));
    const crashing = atWrite
      ? { ...deps, runs: Object.assign(Object.create(deps.runs) as typeof deps.runs, { transition: stop }) }
      : { ...deps, datasets: { ...deps.datasets, open: stop } };
    const source = { bucket: env.buckets.datasets, key, size, etag: eTag };
    await expect(ingest({ kind: 'upload', source }, crashing)).rejects.toThrow('stopped here');
    const [run] = (await env.runs.listByStatus('requested')).filter((r) => r.source.key === key);
    expect(run).toBeDefined();
    return run!;
  }
  /** The sweeper's message for a stale `requested` run, delivered to the ingest handler. */
  const redrive = async (runId: string) => {
    const body = JSON.stringify(buildMessage(StageRequested, runId, { stage: 0 }, runId));
    const out = await ingestHandler(sqsEvent(sqsRecord(body, { queue: 'ingest' })), lambdaContext('ingest'));
    expect(out.batchItemFailures).toEqual([]);
  };
  const lines = (n: number) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ instruction: `質問${i}`, input: '', output: `答え${i}` }))
      .join('\n')
      .concat('\n');

  it('is planned from its record and prepared to the end; a second copy of the message queues nothing more', async () => {
    const key = 'datasets/stranded.jsonl';
    await env.put(`${key}.run.json`, JSON.stringify({ split: { train: 40, validation: 10, test: 5 } }));
    const stranded = await crashedIngest(key, lines(60));

    await redrive(stranded.runId);
    const chunks = (await env.drain(env.queues.transform)).map((m) => m.body);
    expect(chunks.length).toBeGreaterThan(0);
    expect((await env.runs.get(stranded.runId))!.status).toBe('preparing');
    await redrive(stranded.runId); // a copy, once the run is planned: chunks again at most, no second plan
    const again = (await env.drain(env.queues.transform)).map((m) => m.body);
    await deliver(transformHandler, [...chunks, ...again], 'transform');
    await deliver(
      splitHandler,
      (await env.drain(env.queues.split)).map((m) => m.body),
      'split',
    );
    const submit = await env.drain(env.queues.submit);
    expect(submit.length).toBeGreaterThan(0);
    const run = (await env.runs.get(stranded.runId))!;
    expect(runCounts(run)).toMatchObject({ input: 60, kept: 60, train: 40, validation: 10, test: 5 });
    expect(countsBalance(runCounts(run)!)).toBe(true);
    const events = (await env.runs.listEvents(stranded.runId)).map((e) => e.type);
    expect(events.filter((t) => t === 'ingest.planned')).toHaveLength(1);
  });

  it('fails, pointing at the configuration, when its configuration did not resolve', async () => {
    const key = 'datasets/bad-sidecar.jsonl';
    await env.put(`${key}.run.json`, JSON.stringify({ split: { train: -5 } }));
    const stranded = await crashedIngest(key, lines(30), true);
    await redrive(stranded.runId);
    expect(await env.drain(env.queues.transform)).toHaveLength(0);
    expect(await env.runs.get(stranded.runId)).toMatchObject({
      status: 'failed',
      failure: {
        reason: expect.stringMatching(/the run configuration did not resolve/),
        hint: expect.stringMatching(/sidecar/),
      },
    });
  });

  it('fails with the reason when its dataset was replaced since', async () => {
    const key = 'datasets/replaced.jsonl';
    const stranded = await crashedIngest(key, lines(30));
    await env.put(key, lines(31)); // a new upload (whose own notification starts its own run)
    await redrive(stranded.runId);
    expect(await env.drain(env.queues.transform)).toHaveLength(0);
    expect(await env.runs.get(stranded.runId)).toMatchObject({
      status: 'failed',
      failure: {
        stage: 'ingest',
        reason: expect.stringMatching(/replaced.jsonl was replaced after the run was recorded/),
        hint: expect.stringMatching(/new upload starts a run of its own/),
        location: { file: expect.stringContaining(key) },
      },
    });
  });
});

describeWithData(DOLLY)('databricks-dolly-15k-ja through the handlers', () => {
  it('as JSON Lines cut by ranges: every reject line names the line in the file it came from', async () => {
    const text = readFileSync(DOLLY, 'utf8');
    const source = text.split('\n');
    const { submit, chunks } = await runUpload('datasets/dolly/ranges.jsonl', text);
    expect(
      chunks.map(
        (c) => (JSON.parse(c) as { payload: { chunk: { relativeLines?: boolean } } }).payload.chunk.relativeLines,
      ),
    ).toEqual([true, true]);
    const run = (await env.runs.get(submit[0]!.runId))!;
    const rejects = (await env.text(env.buckets.artifacts, `runs/${run.runId}/stages/0/rejects.jsonl`))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { line: number; record?: string });
    expect(rejects).toHaveLength(runCounts(run)!.filtered + runCounts(run)!.rejected);
    const quoted = rejects.filter((r) => r.record !== undefined);
    expect(quoted.length).toBeGreaterThan(400);
    // The head of the record a reject quotes is the head of the line it names.
    for (const r of quoted) expect(source[r.line - 1]!.startsWith(r.record!.replace(/…$/, ''))).toBe(true);
    expect(quoted.some((r) => r.line > source.length / 2)).toBe(true); // some are in the second chunk
  });

  it('as a JSON array in many chunks: 10,000 / 1,000 / 50, counts on the run, manifest with hashes, dataset.prepared for one manifest', async () => {
    const rows = readJsonl(DOLLY);
    const key = 'datasets/dolly/dolly 15k.json';
    await env.put(`${key}.run.json`, JSON.stringify({ prep: { chunkBytes: 4 * 1024 * 1024 } }));
    const { submit, chunks } = await runUpload(key, toJsonArray(rows));
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    // The first delivery to find every chunk done splits; later ones find the run submitting and republish (submit is
    // idempotent).
    expect(submit).toHaveLength(chunks.length);
    expect(new Set(submit.map((m) => `${m.type} ${m.runId} ${m.payload.manifestKey}`)).size).toBe(1);
    const run = (await env.runs.get(submit[0]!.runId))!;
    expect(run.status).toBe('submitting');
    expect(runCounts(run)).toMatchObject({ input: 15_015, train: 10_000, validation: 1_000, test: 50 });
    expect(countsBalance(runCounts(run)!)).toBe(true);
    const manifest = JSON.parse(await env.text(env.buckets.artifacts, submit[0]!.payload.manifestKey)) as {
      outputs: Record<string, { key: string; sha256: string; records: number }>;
    };
    const train = await env.text(env.buckets.artifacts, manifest.outputs.train!.key);
    expect(manifest.outputs.train!.key).toBe(`runs/${run.runId}/stages/0/prepared/train.jsonl`);
    expect(train.split('\n').filter(Boolean)).toHaveLength(10_000);
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(train).digest('hex')).toBe(manifest.outputs.train!.sha256);
    const rejects = (await env.text(env.buckets.artifacts, `runs/${run.runId}/stages/0/rejects.jsonl`))
      .split('\n')
      .filter(Boolean);
    expect(rejects).toHaveLength(runCounts(run)!.filtered + runCounts(run)!.rejected);

    // Replays: the same notification again starts nothing; a redelivered chunk.transformed republishes
    // dataset.prepared.
    const again = await runUpload(key, toJsonArray(rows));
    expect(again.chunks).toHaveLength(0);
    expect(again.submit).toHaveLength(0);
  });
});
