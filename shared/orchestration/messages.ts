import { z } from 'zod';
import { defineMessage } from '../messages/envelope';

/**
 * Messages the orchestration steps send themselves (the cross-team contracts are in shared/messages/pipeline.ts;
 * the control messages other teams post are in control-messages.ts).
 */

/**
 * To the submit queue: submit (or resubmit) the run's current attempt. Sent delayed while the run is queued on the
 * concurrent-jobs quota or backing off from throttling, and at once after a remediation or a resume. The attempt
 * and its settings are read from the run, not from this message, so a stale copy can never submit an old attempt.
 */
export const JobRequested = defineMessage(
  'job.requested',
  1,
  z.object({
    stage: z.number().int().nonnegative().default(0),
    reason: z.enum(['queued', 'throttled', 'remediation', 'resume']),
    /** How many times this wait has been retried; drives the backoff. */
    retry: z.number().int().nonnegative().default(0),
  }),
);

/** To the provision queue: delete the throughput when its time to live is over (re-delayed in 900 s steps). */
export const ThroughputExpire = defineMessage(
  'throughput.expire',
  1,
  z.object({ provisionedModelArn: z.string().min(1), expiresAt: z.iso.datetime() }),
);

/**
 * From monitor to the ingest queue: a chained run's previous stage is trained and the run is `preparing` for this
 * stage; plan the stage's dataset into chunks. Ingest reads everything else from the run, so a copy is harmless.
 */
export const StageRequested = defineMessage('stage.requested', 1, z.object({ stage: z.number().int().positive() }));

/**
 * From provision (and the sweeper, when the first copy was lost) to the evaluate queue: the run's throughput is in
 * service and the run is `evaluating`; send held-out test prompts to it. How many, and which file, are read from the
 * run, so a copy is harmless. `retry` counts the throttled attempts and drives the backoff.
 */
export const EvaluationRequested = defineMessage(
  'evaluation.requested',
  1,
  z.object({ provisionedModelArn: z.string().min(1), retry: z.number().int().nonnegative().default(0) }),
);
