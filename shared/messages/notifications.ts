import * as z from 'zod';
import { RecordCounts } from '../artifacts/reasons';
import { GateRecord, RunFailure } from '../runs/run';
import { RUN_STATUSES } from '../runs/status';
import { defineMessage } from './envelope';

const RunStatusSchema = z.enum(RUN_STATUSES);

/**
 * Published by the pipeline after every change of a run's status (SNS topic in AWS; a queue of the local stack), so
 * other teams can subscribe instead of polling the runs table. The table stays the source of truth: a notification
 * says what changed, `version` orders notifications of one run (SNS standard topics do not keep order).
 */
export const RunStatusChanged = defineMessage('run.status.changed', 1, () =>
  z.object({
    /** Absent when the run was just created. */
    from: RunStatusSchema.optional(),
    to: RunStatusSchema,
    /** When the change was written. */
    at: z.iso.datetime(),
    /** The run's version after the change: later changes of the same run have higher versions. */
    version: z.number().int().positive(),
    /** The run event that made the change (`run.created`, `job.submitted`, ...). */
    event: z.string().min(1),
    source: z.object({ bucket: z.string(), key: z.string() }).optional(),
    artifactsPrefix: z.string().optional(),
    /**
     * The run's failure, as the run record keeps it: its stage, reason, where in the input, and `hint`, what to change
     * (naming the setting where there is one). The hint is optional: notifications published before it was added, and
     * failures recorded before hints existed, have none.
     */
    failure: RunFailure.optional(),
    /** The run's record counts, as the run record keeps them. */
    counts: RecordCounts.optional(),
    jobArn: z.string().optional(),
    modelArn: z.string().optional(),
    provisionedModelArn: z.string().optional(),
    /**
     * The custom model deployment serving the model, when it is served on demand instead of by Provisioned Throughput
     * (InvokeModel takes this ARN as its model id). Optional: notifications published before it was added have none.
     */
    deploymentArn: z.string().optional(),
    /** The gate's decision on the run's evaluation (keep or delete its throughput) and why, once taken. */
    gate: GateRecord.pick({ decision: true, reasons: true }).optional(),
  }),
);
export type RunStatusChanged = z.infer<typeof RunStatusChanged.schema>;

/**
 * Published when a `run.requested` cannot start a run (the object it names does not exist, say), so its sender hears
 * of it instead of waiting for a run that never comes. The envelope's `runId` and `correlationId` are the request's;
 * the request itself is kept, with the same reason in its `btp-error` attribute, in the ingest dead-letter queue.
 */
export const RunRejected = defineMessage('run.rejected', 1, () =>
  z.object({
    /** Why no run was started. */
    reason: z.string().min(1),
    /** The rejected message: its type and its envelope ids. */
    request: z.object({ type: z.string().min(1), runId: z.string().min(1), correlationId: z.string().min(1) }),
    /** The object the request named. */
    source: z.object({ bucket: z.string(), key: z.string() }).optional(),
    /** When it was rejected. */
    at: z.iso.datetime(),
  }),
);
export type RunRejected = z.infer<typeof RunRejected.schema>;
