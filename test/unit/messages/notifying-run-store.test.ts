import { parseMessage } from '../../../shared/messages/envelope';
import { RunStatusChanged } from '../../../shared/messages/notifications';
import { NotifyingRunStore, withNotifications } from '../../../shared/runs/notifying-run-store';
import type { Run } from '../../../shared/runs/run';
import { RunConfig } from '../../../shared/config/run-config';
import { MemoryRunStore, stage0 } from '../../helpers/orchestration/fakes';

const newRun = (runId: string): Run => ({
  runId,
  status: 'requested',
  version: 1,
  createdAt: '2025-06-01T09:00:00.000Z',
  updatedAt: '2025-06-01T09:00:00.000Z',
  source: { bucket: 'datasets', key: 'datasets/a.jsonl' },
  config: RunConfig.parse({}),
  artifactsPrefix: `s3://artifacts/runs/${runId}/`,
  stages: [],
});

describe('NotifyingRunStore', () => {
  const given = () => {
    const now = () => new Date('2025-06-01T10:00:00.000Z');
    const inner = new MemoryRunStore(now);
    const sent: RunStatusChanged[] = [];
    const store = new NotifyingRunStore(inner, async (m) => void sent.push(m as RunStatusChanged), { now });
    return { inner, store, sent };
  };

  it('publishes one valid notification per status change, in order, and none for updates', async () => {
    const { store, sent } = given();
    await store.create(newRun('r1'), { type: 'run.created' });
    await store.transition(
      'r1',
      'requested',
      'preparing',
      { stages: stage0('r1', { chunks: 2 }) },
      { type: 'ingest.planned' },
    );
    await store.update('r1', 'preparing', { warnings: ['w'] });
    await store.transition('r1', ['preparing', 'splitting'], 'splitting', {}, { type: 'chunks.done' });
    await store.transition(
      'r1',
      'splitting',
      'failed',
      {
        failure: {
          stage: 'split',
          reason: 'too few records',
          hint: 'lower split.train',
          at: '2025-06-01T10:00:00.000Z',
        },
      },
      { type: 'split.failed' },
    );

    expect(sent.map((m) => [m.payload.from, m.payload.to, m.payload.event])).toEqual([
      [undefined, 'requested', 'run.created'],
      ['requested', 'preparing', 'ingest.planned'],
      ['preparing', 'splitting', 'chunks.done'],
      ['splitting', 'failed', 'split.failed'],
    ]);
    for (const m of sent) expect(() => parseMessage(RunStatusChanged, JSON.stringify(m))).not.toThrow();
    // each the version its change wrote (clearing the change's unannounced mark is a write of its own)
    expect(sent.map((m) => m.payload.version)).toEqual([1, 3, 6, 8]);
    // the failure as the run keeps it, its hint (what to change) included
    expect(sent[3]!.payload.failure).toMatchObject({ reason: 'too few records', hint: 'lower split.train' });
    expect(sent[1]!.correlationId).toBe('r1:3');
  });

  it('carries the custom model deployment that serves the model', async () => {
    const { store, sent } = given();
    const deploymentArn = 'arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefghijkl';
    await store.create({ ...newRun('r1'), status: 'provisioning', modelArn: 'm', deploymentArn }, { type: 'a' });
    await store.transition('r1', 'provisioning', 'evaluating', {}, { type: 'deployment.active' });
    expect(sent.map((m) => m.payload.deploymentArn)).toEqual([deploymentArn, deploymentArn]);
    expect(sent[1]!.payload.provisionedModelArn).toBeUndefined();
    for (const m of sent) expect(() => parseMessage(RunStatusChanged, JSON.stringify(m))).not.toThrow();
  });

  it('publishes nothing for a replayed create or a transition that lost its race', async () => {
    const { store, sent } = given();
    await store.create(newRun('r1'), { type: 'run.created' });
    expect(await store.create(newRun('r1'), { type: 'run.created' })).toBe(false);
    await store.transition('r1', 'requested', 'preparing', {}, { type: 'a' });
    expect(await store.transition('r1', 'requested', 'preparing', {}, { type: 'a' })).toBeUndefined();
    expect(sent).toHaveLength(2);
  });

  it('keeps the state change when publishing fails, and reports the error', async () => {
    const inner = new MemoryRunStore(() => new Date());
    const errors: string[] = [];
    const store = new NotifyingRunStore(
      inner,
      async () => {
        throw new Error('topic gone');
      },
      { onError: (e, r) => errors.push(`${r.runId}->${r.to}: ${e.message}`) },
    );
    await store.create(newRun('r1'), { type: 'run.created' });
    const next = await store.transition('r1', 'requested', 'preparing', {}, { type: 'a' });
    expect(next?.status).toBe('preparing');
    expect(errors).toEqual(['r1->requested: topic gone', 'r1->preparing: topic gone']);
  });

  it('a change whose publication was lost stays marked until announce publishes it, once', async () => {
    const { inner, store, sent } = given();
    await store.create(newRun('r1'), { type: 'run.created' });
    await store.transition('r1', 'requested', 'preparing', {}, { type: 'ingest.planned' });
    expect((await inner.get('r1'))!.unannounced).toBeUndefined();
    expect(await store.announce((await inner.get('r1'))!)).toBe(false); // nothing lost: nothing published again
    // a writer that died between its write and its publication: the change is written, marked, and unheard of
    const dying = new NotifyingRunStore(
      inner,
      async () => {
        throw new Error('killed');
      },
      { onError: () => undefined },
    );
    await dying.transition('r1', ['preparing', 'splitting'], 'failed', {}, { type: 'split.failed' });
    const marked = (await inner.get('r1'))!;
    expect(marked.unannounced).toEqual({ to: 'failed', event: 'split.failed' });
    expect(sent).toHaveLength(2);

    expect(await store.announce(marked)).toBe(true);
    expect(sent.map((m) => [m.payload.from, m.payload.to, m.payload.event])).toEqual([
      [undefined, 'requested', 'run.created'],
      ['requested', 'preparing', 'ingest.planned'],
      ['preparing', 'failed', 'split.failed'],
    ]);
    expect((await inner.get('r1'))!.unannounced).toBeUndefined();
    expect(await store.announce((await inner.get('r1'))!)).toBe(false);
    expect(sent).toHaveLength(3);
  });

  it('withNotifications leaves the store as it is when notifications are not configured', () => {
    const inner = new MemoryRunStore(() => new Date());
    expect(withNotifications(inner, undefined)).toBe(inner);
    expect(withNotifications(inner, async () => undefined)).toBeInstanceOf(NotifyingRunStore);
  });
});
