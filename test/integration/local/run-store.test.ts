import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamo, type DynamoEmulator } from '../../../local/emulators/dynamodb';
import { makeDocumentClient } from '../../../shared/aws/clients';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import type { Run } from '../../../shared/runs/run';
import { resolveRunConfig } from '../../../shared/config/run-config';
import { currentPrepare } from '../../../shared/runs/record';
import { stage0 } from '../../helpers/orchestration/fakes';

/** The run store's conditional writes on emulated DynamoDB, given the run as the caller last saw it (`seen`). */
const TABLE = 'btp-store-test';
let dynamo: DynamoEmulator;
let ddb: DynamoDBClient;
let reads = 0;
let store: DynamoRunStore;

beforeAll(async () => {
  dynamo = await startDynamo();
  ddb = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((AttributeName) => ({
        AttributeName,
        AttributeType: 'S' as const,
      })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byStatus',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  const doc = makeDocumentClient(ddb);
  // Counts the run reads (GetItem) the store makes.
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetCommand' || context.commandName === 'GetItemCommand') reads++;
      return next(args);
    },
    { step: 'initialize', name: 'countReads' },
  );
  store = new DynamoRunStore(doc, TABLE);
});
afterAll(async () => {
  ddb.destroy();
  await dynamo.close();
});

let n = 0;
/** A run just requested, not yet stored. */
const requestedRun = (runId: string): Run => {
  const at = new Date().toISOString();
  return {
    runId,
    status: 'requested',
    version: 1,
    createdAt: at,
    updatedAt: at,
    source: { bucket: 'datasets', key: 'datasets/x.jsonl' },
    config: resolveRunConfig(),
    artifactsPrefix: `s3://a/runs/${runId}/`,
    stages: [],
  };
};
const newRun = async (): Promise<Run> => {
  const run = requestedRun(`r-store-${++n}`);
  expect(await store.create(run, { type: 'run.requested' })).toBe(true);
  return run;
};
const readsDuring = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const before = reads;
  const out = await f();
  return [out, reads - before];
};

describe('a write given the run as the caller saw it', () => {
  it('is made on that version without reading the run again', async () => {
    const run = await newRun();
    const [moved, r] = await readsDuring(() =>
      store.transition(
        run.runId,
        'requested',
        'preparing',
        { stages: stage0(run.runId, { chunks: 3 }) },
        { type: 'ingest.planned' },
        { seen: run },
      ),
    );
    expect(moved).toMatchObject({ status: 'preparing', version: 2 });
    expect(currentPrepare(moved!)?.plan?.chunks).toBe(3);
    expect(r).toBe(0);
    const [updated, r2] = await readsDuring(() =>
      store.update(run.runId, 'preparing', { warnings: ['w'] }, undefined, { seen: moved }),
    );
    expect(updated).toMatchObject({ status: 'preparing', version: 3, warnings: ['w'] });
    expect(currentPrepare(updated!)?.plan?.chunks).toBe(3);
    expect(r2).toBe(0);
    expect((await store.listEvents(run.runId)).map((e) => e.type)).toEqual(['run.requested', 'ingest.planned']);
  });

  it('is refused when the run has changed since, then made on the run read afresh: nothing written since is lost', async () => {
    const run = await newRun();
    await store.update(run.runId, 'requested', { warnings: ['written by another delivery'] });
    const [moved, r] = await readsDuring(() =>
      store.transition(
        run.runId,
        'requested',
        'preparing',
        { stages: stage0(run.runId, { chunks: 2 }) },
        { type: 'ingest.planned' },
        { seen: run },
      ),
    );
    expect(moved).toMatchObject({ status: 'preparing', version: 3, warnings: ['written by another delivery'] });
    expect(currentPrepare(moved!)?.plan?.chunks).toBe(2);
    expect(r).toBe(1);
    const stored = await makeDocumentClient(ddb).send(
      new GetCommand({ TableName: TABLE, Key: { pk: `RUN#${run.runId}`, sk: 'RUN' } }),
    );
    expect(stored.Item).toMatchObject({ status: 'preparing', version: 3, warnings: ['written by another delivery'] });
  });

  it('is not made when another delivery moved the run on meanwhile', async () => {
    const run = await newRun();
    await store.transition(run.runId, 'requested', 'preparing', {}, { type: 'ingest.planned' });
    expect(
      await store.transition(
        run.runId,
        'requested',
        'preparing',
        { stages: stage0(run.runId, { chunks: 9 }) },
        { type: 'ingest.planned' },
        { seen: run },
      ),
    ).toBeUndefined();
    expect(await store.get(run.runId)).toMatchObject({ status: 'preparing', version: 2, stages: [] });
  });

  it('a copy in another status than the write expects is not trusted: the run is read', async () => {
    const run = await newRun();
    const [moved, r] = await readsDuring(() =>
      store.transition(
        run.runId,
        'requested',
        'preparing',
        {},
        { type: 'ingest.planned' },
        { seen: { ...run, status: 'failed' } },
      ),
    );
    expect(moved).toMatchObject({ status: 'preparing', version: 2 });
    expect(r).toBe(1);
  });
});

describe('a crash between a write of the run and its history entry', () => {
  /** A store whose Put of one history entry's item (by its key) fails as a function killed at that call would. */
  const crashingStore = () => {
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    clients.push(client);
    let armed: string | undefined;
    client.middlewareStack.add(
      (next) => async (args) => {
        // The document client's item, not yet marshalled at this step.
        const sk = (args.input as { Item?: { sk?: unknown } }).Item?.sk;
        if (armed && sk === armed) {
          armed = undefined;
          throw new Error('the function was killed');
        }
        return next(args);
      },
      { step: 'initialize', name: 'crashBeforeEvent' },
    );
    return {
      store: new DynamoRunStore(makeDocumentClient(client), TABLE),
      arm: (seq: number) => (armed = `EVENT#${String(seq).padStart(9, '0')}`),
    };
  };
  const clients: DynamoDBClient[] = [];
  afterAll(() => clients.forEach((c) => c.destroy()));
  const eventItems = async (runId: string) =>
    (
      await makeDocumentClient(ddb).send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
          ExpressionAttributeValues: { ':pk': `RUN#${runId}`, ':e': 'EVENT#' },
        }),
      )
    ).Items?.map((i) => i.type);

  it('loses no entry: the history shows it from the run, and the next entry writes its item first', async () => {
    const run = await newRun();
    const { store: crashing, arm } = crashingStore();
    arm(2);
    await expect(
      crashing.transition(run.runId, 'requested', 'preparing', {}, { type: 'ingest.planned', detail: { chunks: 2 } }),
    ).rejects.toThrow('the function was killed');
    expect(await eventItems(run.runId)).toEqual(['run.requested']);
    const history = await store.listEvents(run.runId);
    expect(history.map((e) => [e.seq, e.type, e.from, e.to])).toEqual([
      [1, 'run.requested', undefined, 'requested'],
      [2, 'ingest.planned', 'requested', 'preparing'],
    ]);
    expect(history[1]?.detail).toEqual({ chunks: 2 });

    // A write with no entry keeps the pending one; the next entry writes it before its own.
    await store.update(run.runId, 'preparing', { warnings: ['w'] });
    await store.transition(run.runId, 'preparing', 'splitting', {}, { type: 'chunks.transformed' });
    expect(await eventItems(run.runId)).toEqual(['run.requested', 'ingest.planned', 'chunks.transformed']);
    expect((await store.listEvents(run.runId)).map((e) => e.seq)).toEqual([1, 2, 4]);
  });

  it('at creation, loses no entry either', async () => {
    const { store: crashing, arm } = crashingStore();
    const runId = `r-store-crash-${++n}`;
    arm(1);
    await expect(crashing.create(requestedRun(runId), { type: 'run.requested' })).rejects.toThrow(
      'the function was killed',
    );
    expect(await eventItems(runId)).toEqual([]);
    expect((await store.listEvents(runId)).map((e) => e.type)).toEqual(['run.requested']);
  });
});

describe("a chunk's result", () => {
  const chunk = (runId: string, index: number, stage = 0) => ({
    runId,
    stage,
    index,
    counts: { input: 1, kept: 1, filtered: 0, rejected: 0, byReason: {} },
    keptKey: `runs/${runId}/stages/0/chunks/${index}/kept.jsonl`,
    metaKey: `runs/${runId}/stages/0/chunks/${index}/meta.jsonl`,
    rejectsKey: `runs/${runId}/stages/0/chunks/${index}/rejects.jsonl`,
    doneAt: new Date().toISOString(),
  });

  it('is found recorded by its own key: its stage and index, not another chunk of the run', async () => {
    const run = await newRun();
    expect(await store.hasChunk(run.runId, 0, 1)).toBe(false);
    expect(await store.putChunk(chunk(run.runId, 1))).toBe(true);
    expect(await store.putChunk(chunk(run.runId, 2, 1))).toBe(true);
    const [found, r] = await readsDuring(() => store.hasChunk(run.runId, 0, 1));
    expect([found, r]).toEqual([true, 1]);
    expect(await store.hasChunk(run.runId, 0, 2)).toBe(false);
    expect(await store.hasChunk(run.runId, 1, 1)).toBe(false);
    expect(await store.hasChunk(run.runId, 1, 2)).toBe(true);
    expect(await store.hasChunk(`${run.runId}-other`, 0, 1)).toBe(false);
    // A redelivery's second record is refused; what the list gives is unchanged.
    expect(await store.putChunk(chunk(run.runId, 1))).toBe(false);
    expect((await store.listChunks(run.runId, 0)).map((c) => c.index)).toEqual([1]);
    expect((await store.listChunks(run.runId, 1)).map((c) => c.index)).toEqual([2]);
  });
});

describe('an item that does not fit the run record schema', () => {
  it('is refused on read with the run, the item and the field', async () => {
    const run = await newRun();
    const doc = makeDocumentClient(ddb);
    const stored = (await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: `RUN#${run.runId}`, sk: 'RUN' } })))
      .Item!;
    await doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...stored, stages: [{ prepare: { status: 'half-done' }, jobs: [] }] },
      }),
    );
    await expect(store.get(run.runId)).rejects.toThrow(
      `item RUN of run ${run.runId} does not fit the run record schema (shared/runs/run.ts): stages.0.prepare.status:`,
    );
    await expect(store.listByStatus('requested')).rejects.toThrow(/stages\.0\.prepare\.status/);
  });

  it('is refused on write, before it is stored', async () => {
    const run = await newRun();
    await expect(
      store.update(run.runId, 'requested', {
        stages: [{ prepare: { status: 'done' }, jobs: [{ status: 'running', attempt: 0 }] }],
      }),
    ).rejects.toThrow(/stages\.0\.jobs\.0\.attempt/);
    expect(await store.get(run.runId)).toMatchObject({ version: 1, stages: [] });
  });

  it('a chunk result is read only in its own shape', async () => {
    const run = await newRun();
    const doc = makeDocumentClient(ddb);
    await doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: `RUN#${run.runId}`,
          sk: 'CHUNK#S000000000#000000000',
          runId: run.runId,
          stage: 0,
          index: 0,
          doneAt: 'x',
        },
      }),
    );
    await expect(store.listChunks(run.runId, 0)).rejects.toThrow(
      `item CHUNK#S000000000#000000000 of run ${run.runId} does not fit the run record schema (shared/runs/run.ts): counts:`,
    );
  });
});
