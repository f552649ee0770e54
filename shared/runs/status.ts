/**
 * A run's life. Every change of status is one of these transitions, written conditionally on the run's version, so a
 * redelivered message that tries a transition already made loses the race and stops.
 */
export const RUN_STATUSES = [
  'requested',
  'preparing',
  'splitting',
  'submitting',
  'queued',
  'training',
  'provisioning',
  'evaluating',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

const ALLOWED: Record<RunStatus, readonly RunStatus[]> = {
  requested: ['preparing'],
  preparing: ['splitting'],
  splitting: ['submitting', 'succeeded'],
  submitting: ['queued', 'training'],
  // queued: waiting for a slot of a full quota (run.waiting says which): a customization job's, or a throughput's
  queued: ['submitting', 'provisioning'],
  // training -> submitting: a known recoverable job failure is resubmitted once; -> preparing: the next stage of a
  // chained run
  training: ['provisioning', 'evaluating', 'succeeded', 'submitting', 'preparing'],
  provisioning: ['evaluating', 'succeeded', 'queued'],
  evaluating: ['succeeded'],
  // succeeded -> provisioning: `model.provision` buys throughput again for the run's model after its TTL deleted it
  succeeded: ['provisioning'],
  // -> provisioning: resume from the provision stage, reusing the trained model
  failed: ['preparing', 'submitting', 'provisioning'], // resume from a named stage
  cancelled: [],
};

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  if (to === 'failed' || to === 'cancelled') return !TERMINAL_STATUSES.includes(from);
  return ALLOWED[from].includes(to);
}

export const isTerminal = (s: RunStatus) => TERMINAL_STATUSES.includes(s);
