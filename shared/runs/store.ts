import type { ChunkResult, Run, RunEvent } from './run';
import type { RunStatus } from './status';

export interface WriteOptions {
  seen?: Run;
  /**
   * Refuses the write (the result is `undefined`, as for a run in another status) when this holds of the run as
   * read; checked again on every read after a conflicting write. For a write that must happen once although two
   * deliveries reach it in the same status, e.g. recording the throughput both bought under one clientRequestToken.
   */
  unless?: (current: Run) => boolean;
}

/**
 * What a write changes: fields, or a function of the run as the write finds it. A write that loses a race reads the
 * run again and tries again; fields built from an earlier read would then undo what the other writer did to them
 * (a job record's `overdue` flag, say, written over by a poll's copy of the job), where a function builds them
 * from the run it is applied to.
 */
export type RunPatch = Partial<Run> | ((current: Run) => Partial<Run>);

/** The patch's fields for the run as found. */
export const patchOf = (patch: RunPatch, current: Run): Partial<Run> =>
  typeof patch === 'function' ? patch(current) : patch;

/** The run store port: domain code takes it as an argument; DynamoRunStore is the adapter. */
export interface RunStore {
  /** Creates the run unless one with its id exists; `false` means it existed (a replayed request). */
  create(run: Run, event: { type: string; detail?: Record<string, unknown> }): Promise<boolean>;
  get(runId: string): Promise<Run | undefined>;
  /**
   * Moves a run from one of `from` to `to` and applies `patch`, conditionally on the version read. Returns the new
   * run, or `undefined` when the run was no longer in `from` (another delivery already made the move).
   * `opts.seen`: the run as the caller has just read it. The write is tried on its version without reading the run
   * again; if the run has changed since, the write is refused and the run is read, as without it.
   * `opts.unless`: see WriteOptions.
   */
  transition(
    runId: string,
    from: RunStatus | readonly RunStatus[],
    to: RunStatus,
    patch: RunPatch,
    event: { type: string; detail?: Record<string, unknown> },
    opts?: WriteOptions,
  ): Promise<Run | undefined>;
  /** Applies `patch` without changing status, conditionally on the run being in one of `inStatus` (`opts` as above). */
  update(
    runId: string,
    inStatus: RunStatus | readonly RunStatus[],
    patch: RunPatch,
    event?: { type: string; detail?: Record<string, unknown> },
    opts?: WriteOptions,
  ): Promise<Run | undefined>;
  /** Records a chunk's result once; `false` when it was already recorded (a redelivery). */
  putChunk(chunk: ChunkResult): Promise<boolean>;
  /** Whether a chunk's result is recorded (a redelivery's check): one key read, however many chunks the run has. */
  hasChunk(runId: string, stage: number, index: number): Promise<boolean>;
  /** The chunks recorded for one stage of the run. */
  listChunks(runId: string, stage: number): Promise<ChunkResult[]>;
  listEvents(runId: string): Promise<RunEvent[]>;
  /** Runs in a status, newest first, optionally only those updated since a time (the status GSI). */
  listByStatus(status: RunStatus, since?: string): Promise<Run[]>;
  /**
   * Publishes the run's last status change again when its first publication may have been lost (`run.unannounced`
   * names it), and clears the mark; `false` when there was nothing to publish. Absent from a store that publishes
   * nothing.
   */
  announce?(run: Run): Promise<boolean>;
}
