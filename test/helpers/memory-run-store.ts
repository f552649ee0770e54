import { ChunkResult, Run, type RunEvent } from '../../shared/runs/run';
import { canTransition, type RunStatus } from '../../shared/runs/status';
import { patchOf, type RunPatch, type RunStore, type WriteOptions } from '../../shared/runs/store';

/**
 * An in-memory RunStore with the same rules as DynamoRunStore: allowed transitions, versions, function patches and
 * `unless` (WriteOptions), an event history, chunk results recorded once, and every run written parsed against the
 * run record's schema. The one fake of the port, for unit tests of the domain and orchestration code.
 */
export class MemoryRunStore implements RunStore {
  readonly items = new Map<string, Run>();
  readonly chunks = new Map<string, ChunkResult>();
  readonly events: RunEvent[] = [];
  constructor(private readonly now: () => Date = () => new Date()) {}

  async create(run: Run, event: { type: string; detail?: Record<string, unknown> }): Promise<boolean> {
    if (this.items.has(run.runId)) return false;
    this.items.set(run.runId, Run.parse(structuredClone(run)));
    this.events.push({
      runId: run.runId,
      seq: run.version,
      at: run.createdAt,
      type: event.type,
      to: run.status,
      detail: event.detail,
    });
    return true;
  }
  async get(runId: string) {
    const r = this.items.get(runId);
    return r ? (JSON.parse(JSON.stringify(r)) as Run) : undefined; // JSON drops undefined, as DynamoDB does
  }
  async transition(
    runId: string,
    from: RunStatus | readonly RunStatus[],
    to: RunStatus,
    patch: RunPatch,
    event: { type: string; detail?: Record<string, unknown> },
    opts?: WriteOptions,
  ) {
    return this.write(runId, typeof from === 'string' ? [from] : from, to, patch, event, opts);
  }
  async update(
    runId: string,
    inStatus: RunStatus | readonly RunStatus[],
    patch: RunPatch,
    event?: { type: string; detail?: Record<string, unknown> },
    opts?: WriteOptions,
  ) {
    return this.write(runId, typeof inStatus === 'string' ? [inStatus] : inStatus, undefined, patch, event, opts);
  }
  private async write(
    runId: string,
    froms: readonly RunStatus[],
    to: RunStatus | undefined,
    patch: RunPatch,
    event?: { type: string; detail?: Record<string, unknown> },
    opts?: WriteOptions,
  ) {
    const current = this.items.get(runId);
    if (!current || !froms.includes(current.status) || opts?.unless?.(current)) return undefined;
    if (to && !canTransition(current.status, to))
      throw new Error(`run ${runId}: transition ${current.status} -> ${to} is not allowed`);
    const at = this.now().toISOString();
    const next = Run.parse(
      JSON.parse(
        JSON.stringify({
          ...current,
          ...patchOf(patch, current),
          status: to ?? current.status,
          version: current.version + 1,
          updatedAt: at,
        }),
      ),
    );
    this.items.set(runId, next);
    if (event)
      this.events.push({
        runId,
        seq: next.version,
        at,
        type: event.type,
        from: current.status,
        to: next.status,
        detail: event.detail,
      });
    return structuredClone(next);
  }
  /** The runs by id (the same map as `items`). */
  get runs(): Map<string, Run> {
    return this.items;
  }
  async putChunk(c: ChunkResult) {
    const k = `${c.runId}#${c.stage}#${c.index}`;
    if (this.chunks.has(k)) return false;
    this.chunks.set(k, ChunkResult.parse(structuredClone(c)));
    return true;
  }
  async hasChunk(runId: string, stage: number, index: number) {
    return this.chunks.has(`${runId}#${stage}#${index}`);
  }
  async listChunks(runId: string, stage: number) {
    return [...this.chunks.values()]
      .filter((c) => c.runId === runId && c.stage === stage)
      .sort((a, b) => a.index - b.index);
  }
  async listEvents(runId: string) {
    return this.events.filter((e) => e.runId === runId);
  }
  async listByStatus(status: RunStatus) {
    return [...this.items.values()].filter((r) => r.status === status).map((r) => structuredClone(r));
  }
  eventTypes(runId: string) {
    return this.events.filter((e) => e.runId === runId).map((e) => e.type);
  }
}
