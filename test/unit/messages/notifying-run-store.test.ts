import { parseMessage } from '../../../shared/messages/envelope';
import { RunStatusChanged } from '../../../shared/messages/notifications';
import { NotifyingRunStore, withNotifications } from '../../../shared/runs/notifying-run-store';
import type { ChunkResult, Run, RunEvent } from '../../../shared/runs/run';
import { canTransition, type RunStatus } from '../../../shared/runs/status';
import type { RunStore } from '../../../shared/runs/store';
import { RunConfig } from '../../../shared/config/run-config';

/** An in-memory RunStore with the adapter's semantics: conditional transitions, one event per version. */
class MemoryRunStore implements RunStore {
  runs = new Map<string, Run>();
  events: RunEvent[] = [];
  constructor(private readonly now: () => Date) {}
  async create(run: Run, event: { type: string }) {
    if (this.runs.has(run.runId)) return false;
    this.runs.set(run.runId, run);
    this.events.push({ runId: run.runId, seq: run.version, at: run.createdAt, type: event.type, to: run.status });
    return true;
  }
  async get(runId: string) {
    return this.runs.get(runId);
  }
  async transition(runId: string, from: RunStatus | readonly RunStatus[], to: RunStatus, patch: Partial<Run>, event: { type: string }) {
    const cur = this.runs.get(runId);
    const froms = typeof from === 'string' ? [from] : from;
    if (!cur || !froms.includes(cur.status)) return undefined;
    if (!canTransition(cur.status, to)) throw new Error(`${cur.status} -> ${to} is not allowed`);
    const next = { ...cur, ...patch, status: to, version: cur.version + 1, updatedAt: this.now().toISOString() };
    this.runs.set(runId, next);
    this.events.push({ runId, seq: next.version, at: next.updatedAt, type: event.type, from: cur.status, to });
    return next;
  }
  async update(runId: string, inStatus: RunStatus | readonly RunStatus[], patch: Partial<Run>) {
    const cur = this.runs.get(runId);
    const ins = typeof inStatus === 'string' ? [inStatus] : inStatus;
    if (!cur || !ins.includes(cur.status)) return undefined;
    const next = { ...cur, ...patch, version: cur.version + 1 };
    this.runs.set(runId, next);
    return next;
  }
  async putChunk(_c: ChunkResult) {
    return true;
  }
  async listChunks() {
    return [];
  }
  async listEvents(runId: string) {
    return this.events.filter((e) => e.runId === runId);
  }
  async listByStatus(status: RunStatus) {
    return [...this.runs.values()].filter((r) => r.status === status);
  }
}

const newRun = (runId: string): Run => ({
  runId,
  status: 'requested',
  version: 1,
  createdAt: '2025-06-01T09:00:00.000Z',
  updatedAt: '2025-06-01T09:00:00.000Z',
  source: { bucket: 'datasets', key: 'datasets/a.jsonl' },
  config: RunConfig.parse({}),
  artifactsPrefix: `s3://artifacts/runs/${runId}/`,
  stages: {},
});

describe('NotifyingRunStore', () => {
  const given = () => {
    const now = () => new Date('2025-06-01T10:00:00.000Z');
    const inner = new MemoryRunStore(now);
    const sent: RunStatusChanged[] = [];
    const store = new NotifyingRunStore(inner, async (m) => void sent.push(m), { now });
    return { inner, store, sent };
  };

  it('publishes one valid notification per status change, in order, and none for updates', async () => {
    const { store, sent } = given();
    await store.create(newRun('r1'), { type: 'run.created' });
    await store.transition('r1', 'requested', 'preparing', { chunksTotal: 2 }, { type: 'ingest.planned' });
    await store.update('r1', 'preparing', { warnings: ['w'] });
    await store.transition('r1', ['preparing', 'splitting'], 'splitting', {}, { type: 'chunks.done' });
    await store.transition('r1', 'splitting', 'failed', { failure: { stage: 'split', reason: 'too few records', at: '2025-06-01T10:00:00.000Z' } }, { type: 'split.failed' });

    expect(sent.map((m) => [m.payload.from, m.payload.to, m.payload.event])).toEqual([
      [undefined, 'requested', 'run.created'],
      ['requested', 'preparing', 'ingest.planned'],
      ['preparing', 'splitting', 'chunks.done'],
      ['splitting', 'failed', 'split.failed'],
    ]);
    for (const m of sent) expect(() => parseMessage(RunStatusChanged, JSON.stringify(m))).not.toThrow();
    expect(sent.map((m) => m.payload.version)).toEqual([1, 2, 4, 5]);
    expect(sent[3]!.payload.failure?.reason).toBe('too few records');
    expect(sent[1]!.correlationId).toBe('r1:2');
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
    const store = new NotifyingRunStore(inner, async () => { throw new Error('topic gone'); }, { onError: (e, r) => errors.push(`${r.runId}->${r.to}: ${e.message}`) });
    await store.create(newRun('r1'), { type: 'run.created' });
    const next = await store.transition('r1', 'requested', 'preparing', {}, { type: 'a' });
    expect(next?.status).toBe('preparing');
    expect(errors).toEqual(['r1->requested: topic gone', 'r1->preparing: topic gone']);
  });

  it('withNotifications leaves the store as it is when notifications are not configured', () => {
    const inner = new MemoryRunStore(() => new Date());
    expect(withNotifications(inner, undefined)).toBe(inner);
    expect(withNotifications(inner, async () => undefined)).toBeInstanceOf(NotifyingRunStore);
  });
});
