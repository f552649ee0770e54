import { createHash } from 'node:crypto';
import { parseMessage } from '../../../shared/messages/envelope';
import { ChunkRequested, ChunkTransformed, DatasetPrepared } from '../../../shared/messages/pipeline';
import { ingest, type IngestDeps } from '../../../services/ingest/ingest';
import { uploadsOf } from '../../../services/ingest/s3-event';
import { parseQueueItem } from '../../../shared/messages/queues';
import { buildSend, type Publish } from '../../../shared/messages/send';
import type { S3Notification } from '../../../shared/messages/aws-events';
import { transformChunk, type TransformDeps } from '../../../services/transform/transform';
import { splitOnChunk, type SplitDeps } from '../../../services/split/split';
import { PROFILES, runIdFor } from '../../../shared/prep/run-setup';
import { MemoryObjects, MemoryRunStore, memoryPublish, QUEUE_URLS } from '../../helpers/prep/memory';
import { currentPrepare, runCounts } from '../../../shared/runs/record';

const B = 'datasets-bucket';
const body = Array.from({ length: 50 }, (_, i) =>
  JSON.stringify({ instruction: `q${i}`, input: '', output: `a${i}`, category: i % 2 ? 'x' : 'y' }),
).join('\n');
const now = () => new Date('2025-01-01T00:00:00Z');

function setup() {
  const objects = new MemoryObjects();
  const runs = new MemoryRunStore(now);
  const publish = memoryPublish();
  const datasets = objects.datasets();
  const artifacts = objects.artifacts('artifacts');
  const send = buildSend(publish, QUEUE_URLS, now);
  const figures: Array<[string, number]> = [];
  const ingestDeps: IngestDeps = { runs, send, datasets, artifactsBucket: 'artifacts', now };
  const transformDeps: TransformDeps = { runs, send, datasets, artifacts, now };
  const splitDeps: SplitDeps = {
    runs,
    send,
    artifacts,
    count: (figure, value) => void figures.push([figure, value]),
    now,
  };
  const on = (q: string) => publish.sent.filter((m) => m.queueUrl === q);
  return { objects, runs, publish, datasets, ingestDeps, transformDeps, splitDeps, on, figures };
}

describe('ingest records: S3 notifications and run requests', () => {
  it('decodes URL-encoded keys (spaces as +) and ignores S3 test events', async () => {
    // An event as S3 sends it (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
    const record = {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2025-01-01T00:00:00.000Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
      requestParameters: { sourceIPAddress: '203.0.113.9' },
      responseElements: {
        'x-amz-request-id': 'C3D13FE58DE4C810',
        'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
      },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'datasets',
        bucket: { name: B, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${B}` },
        object: { key: 'datasets/my+file+%E6%97%A5.jsonl', size: 3, eTag: 'abc', sequencer: '0055AED6DCD90281E5' },
      },
    };
    const parsed = await parseQueueItem('ingest', JSON.stringify({ Records: [record] }));
    expect(parsed.type).toBe('aws.s3.notification');
    expect(uploadsOf(parsed.body as S3Notification)).toEqual([
      {
        kind: 'upload',
        source: { bucket: B, key: 'datasets/my file 日.jsonl', size: 3, etag: 'abc', versionId: undefined },
      },
    ]);
    // an upload through S3's dual-stack endpoint names an IPv6 requester
    const ipv6 = { ...record, requestParameters: { sourceIPAddress: '2001:db8::1' } };
    expect((await parseQueueItem('ingest', JSON.stringify({ Records: [ipv6] }))).type).toBe('aws.s3.notification');
    expect(
      (await parseQueueItem('ingest', JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: B }))).type,
    ).toBe('aws.s3.test');
    await expect(parseQueueItem('ingest', '{"hello":1}')).rejects.toThrow(
      'the ingest queue takes run.requested, stage.requested, an S3 event notification or an s3:TestEvent, not a body without a message type',
    );
    await expect(parseQueueItem('ingest', '{"type":"job.poll"}')).rejects.toThrow(
      /^the ingest queue takes .*, not a job.poll message$/,
    );
    await expect(parseQueueItem('ingest', '{"type":"run.requested","version":1}')).rejects.toThrow(
      /invalid run.requested/,
    );
    await expect(
      parseQueueItem('ingest', JSON.stringify({ Records: [{ ...record, eventSource: 'aws:sqs' }] })),
    ).rejects.toThrow(/^an S3 event notification on the ingest queue is not valid: Records.0.eventSource/);
  });

  it('ignores keys outside datasets/ and sidecar configurations', async () => {
    const { objects, ingestDeps } = setup();
    objects.put(B, 'other/x.jsonl', body);
    objects.put(B, 'datasets/x.jsonl.run.json', '{}');
    expect(await ingest({ kind: 'upload', source: { bucket: B, key: 'other/x.jsonl' } }, ingestDeps)).toMatchObject({
      outcome: 'ignored',
    });
    expect(
      await ingest({ kind: 'upload', source: { bucket: B, key: 'datasets/x.jsonl.run.json' } }, ingestDeps),
    ).toMatchObject({ outcome: 'ignored' });
  });
});

describe('ingest is idempotent on the object and its configuration', () => {
  it('a repeated notification starts no second run and queues nothing more', async () => {
    const { objects, ingestDeps, runs, on } = setup();
    objects.put(B, 'datasets/a.jsonl', body);
    const first = await ingest({ kind: 'upload', source: { bucket: B, key: 'datasets/a.jsonl' } }, ingestDeps);
    const again = await ingest({ kind: 'upload', source: { bucket: B, key: 'datasets/a.jsonl' } }, ingestDeps);
    expect(first).toMatchObject({ outcome: 'planned', chunks: 1 });
    expect(again).toEqual({ outcome: 'replayed', runId: (first as { runId: string }).runId });
    expect(runs.runs.size).toBe(1);
    expect(on('q://transform')).toHaveLength(1);
  });

  it('a repeated notification reads nothing of the object: its plan is made only for a run that is not a replay', async () => {
    const { objects, ingestDeps } = setup();
    objects.put(B, 'datasets/a.jsonl', body);
    await ingest({ kind: 'upload', source: { bucket: B, key: 'datasets/a.jsonl' } }, ingestDeps);
    const opened: string[] = [];
    const datasets = {
      ...ingestDeps.datasets,
      open: async (...args: Parameters<typeof ingestDeps.datasets.open>) => (
        opened.push(args[0].key),
        ingestDeps.datasets.open(...args)
      ),
    };
    expect(
      await ingest({ kind: 'upload', source: { bucket: B, key: 'datasets/a.jsonl' } }, { ...ingestDeps, datasets }),
    ).toMatchObject({ outcome: 'replayed' });
    expect(opened).toEqual([]);
  });

  it('another configuration is another run', async () => {
    const { objects, ingestDeps } = setup();
    objects.put(B, 'datasets/a.jsonl', body);
    const a = await ingest(
      { kind: 'request', source: { bucket: B, key: 'datasets/a.jsonl' }, request: { runId: 'r', correlationId: 'c' } },
      ingestDeps,
    );
    const b = await ingest(
      {
        kind: 'request',
        source: { bucket: B, key: 'datasets/a.jsonl' },
        config: { split: { seed: 's2' } },
        request: { runId: 'r', correlationId: 'c' },
      },
      ingestDeps,
    );
    expect((a as { runId: string }).runId).not.toBe((b as { runId: string }).runId);
    expect((a as { runId: string }).runId).toMatch(/^r-[0-9a-f]{20}$/);
  });

  it('refuses a run request for another bucket or for a key outside the input prefixes, before reading it', async () => {
    const { objects, ingestDeps, runs } = setup();
    objects.put(B, 'private/a.jsonl', body);
    objects.put('other-bucket', 'datasets/a.jsonl', body);
    const rejections: unknown[] = [];
    const notify = async (message: unknown) => void rejections.push(message);
    const deps = { ...ingestDeps, datasetsBucket: B, notify };
    const request = (bucket: string, key: string) =>
      ingest({ kind: 'request', source: { bucket, key }, request: { runId: 'r', correlationId: 'c' } }, deps);
    expect(await request('other-bucket', 'datasets/a.jsonl')).toMatchObject({
      outcome: 'rejected',
      why: expect.stringContaining('"other-bucket"'),
    });
    expect(await request(B, 'private/a.jsonl')).toMatchObject({
      outcome: 'rejected',
      why: expect.stringContaining('"private/a.jsonl"'),
    });
    expect(await request(B, 'datasets/a.jsonl.run.json')).toMatchObject({ outcome: 'rejected' });
    objects.put(B, 'datasets/../private/a.jsonl', body);
    expect(await request(B, 'datasets/../private/a.jsonl')).toMatchObject({
      outcome: 'rejected',
      why: expect.stringContaining('".." path segment'),
    });
    // each sender hears why (run.rejected), under its request's ids
    expect(rejections).toHaveLength(4);
    expect(rejections[0]).toMatchObject({ type: 'run.rejected', runId: 'r', correlationId: 'c' });
    expect(runs.runs.size).toBe(0);
    // inputs/ is where a chained run's later datasets live: a request may name it
    objects.put(B, 'inputs/a.jsonl', body);
    expect(await request(B, 'inputs/a.jsonl')).toMatchObject({ outcome: 'planned' });
  });

  it('fails the run of an upload whose key has a "." or ".." segment, naming the key', async () => {
    const { objects, ingestDeps, runs } = setup();
    for (const key of ['datasets/../private/a.jsonl', 'datasets/./a.jsonl']) {
      objects.put(B, key, body);
      const out = await ingest({ kind: 'upload', source: { bucket: B, key } }, ingestDeps);
      expect(out).toMatchObject({ outcome: 'failed', reason: expect.stringContaining(`"${key}"`) });
      const run = runs.runs.get((out as { runId: string }).runId)!;
      expect(run.status).toBe('failed');
      expect(run.failure).toMatchObject({ stage: 'ingest', location: { file: expect.stringContaining(key) } });
    }
    // a dot inside a name is no segment of its own
    objects.put(B, 'datasets/v1..2/a.b.jsonl', body);
    expect(
      await ingest({ kind: 'upload', source: { bucket: B, key: 'datasets/v1..2/a.b.jsonl' } }, ingestDeps),
    ).toMatchObject({ outcome: 'planned' });
  });

  it('a run planned but not all queued (a crash while publishing) is queued again, and then no more', async () => {
    const { objects, ingestDeps, runs, on } = setup();
    objects.put(B, 'datasets/a.jsonl', body);
    const crashing = {
      ...ingestDeps,
      send: buildSend(async () => {
        throw new Error('SQS down');
      }, QUEUE_URLS),
    };
    await expect(ingest({ kind: 'upload', source: { bucket: B, key: 'datasets/a.jsonl' } }, crashing)).rejects.toThrow(
      'SQS down',
    );
    const planned = [...runs.runs.values()][0]!;
    expect(planned.status).toBe('preparing');
    expect(currentPrepare(planned)?.plan?.chunks).toBe(1);
    expect(on('q://transform')).toHaveLength(0);
    await ingest({ kind: 'upload', source: { bucket: B, key: 'datasets/a.jsonl' } }, ingestDeps);
    expect(on('q://transform')).toHaveLength(1);
    expect(currentPrepare([...runs.runs.values()][0]!)?.chunksQueued).toBe(true);
    expect(await ingest({ kind: 'upload', source: { bucket: B, key: 'datasets/a.jsonl' } }, ingestDeps)).toMatchObject({
      outcome: 'replayed',
    });
    expect(on('q://transform')).toHaveLength(1);
  });

  it('layers the configuration: defaults < profile folder < sidecar < message', async () => {
    const { objects, ingestDeps, runs } = setup();
    objects.put(B, 'datasets/pairs/a.jsonl', JSON.stringify({ prompt: 'p', completion: 'c' }));
    objects.put(B, 'datasets/pairs/a.jsonl.run.json', JSON.stringify({ split: { seed: 'side', train: 5 } }));
    const r = await ingest(
      {
        kind: 'request',
        source: { bucket: B, key: 'datasets/pairs/a.jsonl' },
        config: { split: { train: 7 } },
        request: { runId: 'r', correlationId: 'c' },
      },
      ingestDeps,
    );
    const run = runs.runs.get((r as { runId: string }).runId)!;
    expect(run.config.prep.template.kind).toBe(PROFILES.pairs!.prep!.template!.kind);
    expect(run.config.split).toMatchObject({ seed: 'side', train: 7, validation: 1000 });
    expect(run.runId).toBe(runIdFor({ bucket: B, key: 'datasets/pairs/a.jsonl', etag: run.source.etag }, run.config));
  });

  it('fails the run before any data is read when its prompt file has a bad line, naming the file, line and field', async () => {
    const { objects, ingestDeps, runs, on } = setup();
    objects.put(B, 'datasets/a.jsonl', body);
    objects.put(
      B,
      'inputs/prompts.jsonl',
      [
        JSON.stringify({ prompt: '日本で一番高い山は？', category: 'open_qa' }),
        JSON.stringify({ prompt: '5つ挙げて', category: 'brainstorming', maxTokenCount: 0 }),
      ].join('\n'),
    );
    const request = (key: string) => ({
      kind: 'request' as const,
      source: { bucket: B, key: 'datasets/a.jsonl' },
      config: { evaluation: { promptFile: { key } } },
      request: { runId: key, correlationId: 'c' },
    });
    const out = await ingest(request('inputs/prompts.jsonl'), ingestDeps);
    expect(out).toMatchObject({ outcome: 'failed' });
    const run = runs.runs.get((out as { runId: string }).runId)!;
    expect(run.failure).toMatchObject({
      stage: 'ingest',
      reason: expect.stringContaining(`s3://${B}/inputs/prompts.jsonl line 2: field maxTokenCount`),
      location: { file: `s3://${B}/inputs/prompts.jsonl`, line: 2, field: 'maxTokenCount' },
      hint: expect.stringContaining('evaluation.promptFile'),
    });
    expect(on('q://transform')).toHaveLength(0);
    // a prompt file that does not exist fails the run too
    const missing = await ingest(request('inputs/none.jsonl'), ingestDeps);
    expect(missing).toMatchObject({ outcome: 'failed', reason: `s3://${B}/inputs/none.jsonl does not exist` });
    // and a good one lets the run start, and is recorded on the run with its SHA-256 (evaluate asks only that file)
    const good = JSON.stringify({ prompt: '日本で一番高い山は？', category: 'open_qa' });
    objects.put(B, 'inputs/good.jsonl', good);
    const started = await ingest(request('inputs/good.jsonl'), ingestDeps);
    expect(started).toMatchObject({ outcome: 'planned' });
    expect(runs.runs.get((started as { runId: string }).runId)!.promptFile).toEqual({
      bucket: B,
      key: 'inputs/good.jsonl',
      prompts: 1,
      sha256: createHash('sha256').update(good).digest('hex'),
    });
  });
});

describe('transform and split under redelivery', () => {
  async function planned(chunkBytes = 200) {
    const s = setup();
    s.objects.put(B, 'datasets/a.jsonl', body);
    await ingest(
      {
        kind: 'request',
        source: { bucket: B, key: 'datasets/a.jsonl' },
        config: { prep: { chunkBytes }, split: { train: 30, validation: 10, test: 5 } },
        request: { runId: 'r', correlationId: 'c' },
      },
      s.ingestDeps,
    );
    const chunks = s.on('q://transform').map((m) => parseMessage(ChunkRequested, m.message));
    return { ...s, chunks, runId: chunks[0]!.runId };
  }

  it('a chunk transformed the moment ingest queues it finds its run already preparing', async () => {
    const s = setup();
    s.objects.put(B, 'datasets/a.jsonl', body);
    const outcomes: unknown[] = [];
    await ingest(
      { kind: 'upload', source: { bucket: B, key: 'datasets/a.jsonl' } },
      {
        ...s.ingestDeps,
        send: buildSend(async (...args: Parameters<Publish>) => {
          await s.publish(...args);
          outcomes.push(await transformChunk(parseMessage(ChunkRequested, args[1]), s.transformDeps));
        }, QUEUE_URLS),
      },
    );
    expect(outcomes).toEqual([{ outcome: 'done', recorded: true }]);
  });

  it('a redelivered chunk is counted once; split runs exactly once and a late delivery republishes dataset.prepared', async () => {
    const s = await planned();
    expect(s.chunks.length).toBeGreaterThan(3);
    for (const c of s.chunks) await transformChunk(c, s.transformDeps);
    expect(await transformChunk(s.chunks[0]!, s.transformDeps)).toEqual({ outcome: 'done', recorded: false });
    const done = s.on('q://split').map((m) => parseMessage(ChunkTransformed, m.message));
    expect(done).toHaveLength(s.chunks.length + 1);

    const early = await splitOnChunk(done[0]!, s.splitDeps);
    expect(early).toMatchObject({ outcome: 'prepared' }); // every chunk is already recorded by then
    const results = [];
    for (const d of done.slice(1)) results.push(await splitOnChunk(d, s.splitDeps));
    expect(results.every((r) => r.outcome === 'prepared' && r.republished)).toBe(true);
    const prepared = s.on('q://submit').map((m) => parseMessage(DatasetPrepared, m.message));
    expect(new Set(prepared.map((p) => p.payload.manifestKey))).toEqual(
      new Set([`runs/${s.runId}/stages/0/manifest.json`]),
    );
    expect(s.runs.events.filter((e) => e.to === 'splitting')).toHaveLength(1);
    const run = await s.runs.get(s.runId);
    expect(runCounts(run!)).toMatchObject({ input: 50, kept: 50, train: 30, validation: 10, test: 5 });
    expect(s.figures).toEqual([['RecordsPrepared', 45]]); // counted by the one split, not by the redeliveries
  });

  it('split waits until every chunk is recorded', async () => {
    const s = await planned();
    await transformChunk(s.chunks[0]!, s.transformDeps);
    const d = parseMessage(ChunkTransformed, s.on('q://split')[0]!.message);
    expect(await splitOnChunk(d, s.splitDeps)).toEqual({ outcome: 'waiting', done: 1, total: s.chunks.length });
  });

  it('a delivery that finds the run still splitting (the winner crashed) redoes the split, to the same bytes', async () => {
    const normal = await planned();
    for (const c of normal.chunks) await transformChunk(c, normal.transformDeps);
    await splitOnChunk(parseMessage(ChunkTransformed, normal.on('q://split')[0]!.message), normal.splitDeps);

    const s = await planned();
    for (const c of s.chunks) await transformChunk(c, s.transformDeps);
    await s.runs.transition(s.runId, 'preparing', 'splitting', {}, { type: 'split.started' }); // the winner, then a crash
    const d = parseMessage(ChunkTransformed, s.on('q://split')[0]!.message);
    expect(await splitOnChunk(d, s.splitDeps)).toEqual({ outcome: 'skipped', why: 'another delivery is splitting' });
    expect(await splitOnChunk(d, s.splitDeps, { attempt: 2 })).toMatchObject({ outcome: 'prepared' });
    expect((await s.runs.get(s.runId))!.status).toBe('submitting');
    for (const set of ['train', 'validation', 'test']) {
      const key = `runs/${s.runId}/stages/0/prepared/${set}.jsonl`;
      expect(s.objects.text('artifacts', key)).toBe(normal.objects.text('artifacts', key));
    }
  });

  it('a split that outlived the function timeout is redone by any delivery', async () => {
    const s = await planned();
    for (const c of s.chunks) await transformChunk(c, s.transformDeps);
    await s.runs.transition(s.runId, 'preparing', 'splitting', {}, { type: 'split.started' });
    const d = parseMessage(ChunkTransformed, s.on('q://split')[0]!.message);
    const later = { ...s.splitDeps, now: () => new Date('2025-01-01T00:20:00Z') };
    expect(await splitOnChunk(d, later)).toMatchObject({ outcome: 'prepared' });
  });

  it('a crash after the run moved to submitting: the redelivery republishes dataset.prepared', async () => {
    const s = await planned();
    for (const c of s.chunks) await transformChunk(c, s.transformDeps);
    const d = parseMessage(ChunkTransformed, s.on('q://split')[0]!.message);
    const crashing = {
      ...s.splitDeps,
      send: buildSend(async () => {
        throw new Error('crash before publishing');
      }, QUEUE_URLS),
    };
    await expect(splitOnChunk(d, crashing)).rejects.toThrow('crash');
    expect((await s.runs.get(s.runId))!.status).toBe('submitting');
    expect(await splitOnChunk(d, s.splitDeps)).toMatchObject({ outcome: 'prepared', republished: true });
    expect(s.on('q://submit')).toHaveLength(1);
  });
});
