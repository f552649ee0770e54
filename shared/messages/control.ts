import * as z from 'zod';
import { defineMessage } from './envelope';

/**
 * Control messages other teams and the CLI may post. Each goes to the queue of the step that acts on it (queues.ts):
 *   run.cancel       -> monitor queue   (stops the job; the throughput, if any, is deleted by provision)
 *   run.resume       -> submit queue    (a failed run, from a named stage, reusing earlier artifacts)
 *   model.provision  -> provision queue (buy throughput for an existing custom model, recorded on a run)
 */

export const RunCancel = defineMessage('run.cancel', 1, () =>
  z.object({ reason: z.string().min(1).default('cancelled by request'), requestedBy: z.string().optional() }),
);

export const RunResume = defineMessage('run.resume', 1, () =>
  z.object({
    /**
     * `train` submits a new training attempt on the prepared data already in S3; `provision` reuses the trained
     * model and only buys throughput. (Re-preparing the data belongs to the data-preparation steps.)
     */
    fromStage: z.enum(['train', 'provision']),
    /** Hyperparameters to change for the new attempt (strings, as Bedrock takes them). */
    hyperParameters: z.record(z.string(), z.string()).optional(),
    requestedBy: z.string().optional(),
  }),
);

export const ModelProvision = defineMessage('model.provision', 1, () =>
  z.object({
    /** The custom model's ARN. */
    modelArn: z.string().min(1),
    modelUnits: z.number().int().positive().optional(),
    ttlHours: z.number().positive().optional(),
    requestedBy: z.string().optional(),
  }),
);
