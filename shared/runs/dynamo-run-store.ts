import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import { ChunkResult, Run, RunEvent } from './run';
import { canTransition, type RunStatus } from './status';
import { patchOf, type RunPatch, type RunStore, type WriteOptions } from './store';

/**
 * Single-table layout (documented, with its access patterns, in docs/operations.md):
 *   pk = RUN#<runId>, sk = RUN            the run; gsi1pk = <status>, gsi1sk = <updatedAt>#<runId> (index `byStatus`)
 *   pk = RUN#<runId>, sk = EVENT#<seq>    the append-only history; seq is the run version the event produced
 *   pk = RUN#<runId>, sk = CHUNK#S<stage>#<index>  one transform chunk's result
 * Every item read is parsed against its schema (run.ts); one that does not fit fails with the run, item and field.
 * Every write of the run is conditional on the version it read. No transactions: the local emulator (dynalite) has
 * none. So a write that makes a history entry keeps that entry in the run item too (`lastEvent`) and writes its
 * EVENT# item after; a crash in between loses nothing: listEvents reads the entry from the run while its item is
 * missing, and the next write that makes an entry first writes the one before it (a Put of the same item again is
 * harmless).
 */
export const STATUS_INDEX = 'byStatus';
const MAX_RACE_RETRIES = 8;
const pad = (n: number) => String(n).padStart(9, '0');
const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' });
const chunkPrefix = (stage: number) => `CHUNK#S${pad(stage)}#`;
const chunkSk = (stage: number, index: number) => `${chunkPrefix(stage)}${pad(index)}`;

export class DynamoRunStore implements RunStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(run: Run, event: { type: string; detail?: Record<string, unknown> }): Promise<boolean> {
    const entry = historyEntry(run.runId, run.version, run.createdAt, event, undefined, run.status);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.toItem({ ...run, lastEvent: entry }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
    await this.putEvent(entry);
    return true;
  }

  async get(runId: string): Promise<Run | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: runKey(runId), ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  transition(
    runId: string,
    from: RunStatus | readonly RunStatus[],
    to: RunStatus,
    patch: RunPatch,
    event: { type: string; detail?: Record<string, unknown> },
    opts?: WriteOptions,
  ): Promise<Run | undefined> {
    const froms: readonly RunStatus[] = typeof from === 'string' ? [from] : from;
    return this.write(runId, froms, to, patch, event, opts);
  }

  update(
    runId: string,
    inStatus: RunStatus | readonly RunStatus[],
    patch: RunPatch,
    event?: { type: string; detail?: Record<string, unknown> },
    opts?: WriteOptions,
  ): Promise<Run | undefined> {
    const statuses: readonly RunStatus[] = typeof inStatus === 'string' ? [inStatus] : inStatus;
    return this.write(runId, statuses, undefined, patch, event, opts);
  }

  private async write(
    runId: string,
    froms: readonly RunStatus[],
    to: RunStatus | undefined,
    patch: RunPatch,
    event: { type: string; detail?: Record<string, unknown> } | undefined,
    { seen, unless }: WriteOptions = {},
  ): Promise<Run | undefined> {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      // The caller's copy saves the first read when it could be current; a stale one only fails the condition below.
      const current =
        attempt === 0 && seen?.runId === runId && froms.includes(seen.status) ? seen : await this.get(runId);
      if (!current || !froms.includes(current.status) || unless?.(current)) return undefined;
      const status = to ?? current.status;
      if (to && !canTransition(current.status, to)) {
        throw new Error(`run ${runId}: transition ${current.status} -> ${to} is not allowed`);
      }
      const at = this.now().toISOString();
      const version = current.version + 1;
      const entry = event && historyEntry(runId, version, at, event, current.status, status);
      const next: Run = {
        ...current,
        ...patchOf(patch, current),
        runId,
        status,
        version,
        updatedAt: at,
        lastEvent: entry ?? current.lastEvent,
      };
      // The entry this write replaces in the run item may have lost its own item to a crash: write it first.
      if (entry && current.lastEvent) await this.putEvent(current.lastEvent);
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: this.toItem(next),
            ConditionExpression: '#v = :v',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':v': current.version },
          }),
        );
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) continue; // someone else wrote first: read again
        throw err;
      }
      if (entry) await this.putEvent(entry);
      return next;
    }
    throw new Error(`run ${runId}: gave up after ${MAX_RACE_RETRIES} conflicting writes`);
  }

  async putChunk(chunk: ChunkResult): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `RUN#${chunk.runId}`, sk: chunkSk(chunk.stage, chunk.index), ...ChunkResult.parse(chunk) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async hasChunk(runId: string, stage: number, index: number): Promise<boolean> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `RUN#${runId}`, sk: chunkSk(stage, index) },
        ConsistentRead: true,
        ProjectionExpression: 'sk',
      }),
    );
    return out.Item !== undefined;
  }

  async listChunks(runId: string, stage: number): Promise<ChunkResult[]> {
    return (await this.queryPrefix(runId, chunkPrefix(stage))).map((item) => parseItem(ChunkResult, item));
  }

  async listEvents(runId: string): Promise<RunEvent[]> {
    const [items, run] = await Promise.all([this.queryPrefix(runId, 'EVENT#'), this.get(runId)]);
    const events = items.map((item) => parseItem(RunEvent, item));
    // The latest entry is in the run item from the write that made it; its own item follows (see the top).
    const last = run?.lastEvent;
    if (last && !events.some((e) => e.seq === last.seq)) events.push(last);
    return events.sort((a, b) => a.seq - b.seq);
  }

  async listByStatus(status: RunStatus, since?: string): Promise<Run[]> {
    const runs: Run[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: STATUS_INDEX,
          KeyConditionExpression: since ? 'gsi1pk = :s AND gsi1sk >= :since' : 'gsi1pk = :s',
          ExpressionAttributeValues: since ? { ':s': status, ':since': since } : { ':s': status },
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
        }),
      );
      runs.push(...(out.Items ?? []).map(fromItem));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return runs;
  }

  private async putEvent(event: RunEvent): Promise<void> {
    // Idempotent: a retried write of the same event replaces it with itself.
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `RUN#${event.runId}`, sk: `EVENT#${pad(event.seq)}`, ...event },
      }),
    );
  }

  private async queryPrefix(runId: string, prefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': `RUN#${runId}`, ':p': prefix },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** The run is parsed on its way in too, so a writer's mistake fails at the write that made it. */
  private toItem(run: Run): Record<string, unknown> {
    const valid = check(Run, run, `run ${run.runId}`);
    return { ...runKey(run.runId), gsi1pk: run.status, gsi1sk: `${run.updatedAt}#${run.runId}`, ...valid };
  }
}

function historyEntry(
  runId: string,
  seq: number,
  at: string,
  event: { type: string; detail?: Record<string, unknown> },
  from: RunStatus | undefined,
  to: RunStatus,
): RunEvent {
  return {
    runId,
    seq,
    at,
    type: event.type,
    ...(from ? { from } : {}),
    to,
    ...(event.detail ? { detail: event.detail } : {}),
  };
}

function strip(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest;
}

/** A stored or stored-to-be item that does not fit its schema: names the run, the item and each field. */
export class RunRecordError extends Error {
  override name = 'RunRecordError';
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(item)'}: ${i.message}`).join('; ');
  throw new RunRecordError(`${what} does not fit the run record schema (shared/runs/run.ts): ${fields}`);
}

const describe = (item: Record<string, unknown>) =>
  `item ${String(item.sk)} of run ${String(item.pk).replace(/^RUN#/, '')}`;
const parseItem = <T>(schema: z.ZodType<T>, item: Record<string, unknown>): T =>
  check(schema, strip(item), describe(item));
/** A run item as the table holds it, checked against the run record's schema (the error names the run and field). */
export const fromItem = (item: Record<string, unknown>): Run => parseItem(Run, item);
