import { PROVISIONED_THROUGHPUT_QUOTAS } from '../catalog/models';
import type { Run, SlotWait } from '../runs/run';
import type { RunStatus } from '../runs/status';
import type { RunStore } from '../runs/store';
import { queuedDelaySeconds } from './backoff';
import type { OrchestrationSettings } from './ports';

/**
 * Waiting for a slot of a full account quota. A run whose model is trained is never failed because the account
 * already holds as many throughputs or custom model deployments as its quota allows: it waits in `queued`, with what it
 * waits for recorded (`run.waiting`), and its step tries again after a backoff; the sweeper sends a lost retry again.
 * A step that gets its slot moves the run on from `queued` in the same write that records what it bought.
 */

export type Slot = SlotWait['slot'];

/** Whether the run is queued for this slot (and so a retry of the step that needs it may take it from there). */
export const waitsFor = (run: Pick<Run, 'status' | 'waiting'>, slot: Slot): boolean =>
  run.status === 'queued' && run.waiting?.slot === slot;

/** The no-commitment throughput quota as the catalog publishes it (an account's own may have been raised). */
export const THROUGHPUT_SLOT_QUOTA: SlotWait['quota'] = {
  name: 'no-commitment Provisioned Throughputs per account',
  ...(PROVISIONED_THROUGHPUT_QUOTAS.noCommitmentThroughputsPerAccount.value != null
    ? { value: PROVISIONED_THROUGHPUT_QUOTAS.noCommitmentThroughputsPerAccount.value }
    : {}),
};

/**
 * The custom model deployments an account may hold: a figure in Service Quotas, not in the documentation, so the wait
 * names the quota without a value. A deployment has no time to live (it costs nothing idle): a slot frees when the
 * gate, a cleanup or a user deletes one.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateCustomModelDeployment.html
 */
export const DEPLOYMENT_SLOT_QUOTA: SlotWait['quota'] = { name: 'custom model deployments per account' };

/**
 * Records that the run waits for `slot`: `from` -> `queued` the first time, one more retry after. Returns the delay
 * before the step should try again, or undefined when the run has moved on meanwhile (a cancel, another delivery).
 */
export async function queueForSlot(
  runs: RunStore,
  run: Run,
  from: RunStatus,
  wait: { slot: Slot; quota: SlotWait['quota']; reason: string },
  deps: { now: () => Date; settings: OrchestrationSettings; random?: (() => number) | undefined },
): Promise<number | undefined> {
  const at = deps.now().toISOString();
  const detail = { slot: wait.slot, quota: wait.quota, reason: wait.reason };
  let retries: number;
  if (waitsFor(run, wait.slot)) {
    retries = run.waiting!.retries + 1;
    // Counting the retry also keeps the run's updatedAt fresh: the sweeper sees that a retry is on its way.
    const counted = await runs.update(run.runId, 'queued', { waiting: { ...run.waiting!, ...detail, retries } });
    if (!counted) return undefined;
  } else {
    retries = 0;
    const queued = await runs.transition(
      run.runId,
      from,
      'queued',
      { waiting: { ...detail, since: at, retries } },
      { type: `${wait.slot}.queued`, detail },
    );
    if (!queued) return undefined;
  }
  return queuedDelaySeconds(retries, deps.settings, deps.random);
}
