import type * as z from 'zod';
import type { Envelope, MessageDefinition } from './envelope';
import { RunRequested } from './pipeline';
import { ModelProvision, RunCancel, RunResume } from './control';
import { RunRejected, RunStatusChanged } from './notifications';

export { RunRequested } from './pipeline';
export { ModelProvision, RunCancel, RunResume } from './control';
export { RunRejected, RunStatusChanged } from './notifications';

/**
 * The public contract: every message type other teams may post to the pipeline or consume from it. The
 * definitions live with their producers and consumers; this list only names them, says where they travel, and
 * gives one example each. docs/messages/*.json is generated from it (scripts/generate-message-schemas.ts), and
 * test/unit/messages keeps the generated files and the schemas from drifting apart.
 */
export interface PublicMessage {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definition: MessageDefinition<string, any>;
  /** `in`: other teams post it to the pipeline; `out`: the pipeline publishes it for subscribers. */
  direction: 'in' | 'out';
  /** The queue (serverless.yml logical id) an inbound message goes to, or the topic an outbound one comes from. */
  channel: string;
  description: string;
  example: Envelope;
}

const EXAMPLE_RUN = '01JZ8Q6W5N3V7Q2K4Y8T9R1M0C';
const at = '2025-06-01T09:30:00.000Z';
const envelope = <D extends MessageDefinition<string, z.ZodType>>(def: D, payload: unknown): Envelope => ({
  type: def.type,
  version: def.version,
  runId: EXAMPLE_RUN,
  correlationId: 'c0ffee00-1111-4222-8333-444455556666',
  sentAt: at,
  payload,
});

export const PUBLIC_MESSAGES: readonly PublicMessage[] = [
  {
    definition: RunRequested,
    direction: 'in',
    channel: 'IngestQueue',
    description:
      'Starts a run on a dataset already in S3 (the datasets bucket, or any bucket the ingest function may read). `config` is a partial run configuration (shared/config/run-config.ts). Uploading under datasets/ starts a run too, without this message.',
    example: envelope(RunRequested, {
      source: { bucket: 'bedrock-tuning-pipeline-dev-datasets-123456789012', key: 'datasets/dolly-ja.jsonl' },
      config: { split: { train: 5000, validation: 500 }, labels: { team: 'search' } },
    }),
  },
  {
    definition: RunCancel,
    direction: 'in',
    channel: 'MonitorQueue',
    description: 'Cancels a run: stops its customization job, and the throughput, if any, is deleted.',
    example: envelope(RunCancel, { reason: 'wrong dataset', requestedBy: 'alice@example.com' }),
  },
  {
    definition: RunResume,
    direction: 'in',
    channel: 'SubmitQueue',
    description: 'Resumes a failed run from a named stage, reusing the artifacts of the stages before it.',
    example: envelope(RunResume, {
      fromStage: 'train',
      hyperParameters: { batchSize: '4' },
      requestedBy: 'alice@example.com',
    }),
  },
  {
    definition: ModelProvision,
    direction: 'in',
    channel: 'ProvisionQueue',
    description: 'Buys Provisioned Throughput, with a time to live, for an existing custom model recorded on a run.',
    example: envelope(ModelProvision, {
      modelArn: 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-lite-v1:0:4k/abcd1234efgh',
      modelUnits: 1,
      ttlHours: 2,
    }),
  },
  {
    definition: RunStatusChanged,
    direction: 'out',
    channel: 'RunNotificationsTopic',
    description:
      "Published after every change of a run's status. Order notifications of one run by `payload.version`; read the run from the table (or `btp status`) for everything else.",
    example: envelope(RunStatusChanged, {
      from: 'training',
      to: 'succeeded',
      at,
      version: 9,
      event: 'job.completed',
      source: { bucket: 'bedrock-tuning-pipeline-dev-datasets-123456789012', key: 'datasets/dolly-ja.jsonl' },
      artifactsPrefix: `s3://bedrock-tuning-pipeline-dev-artifacts-123456789012/runs/${EXAMPLE_RUN}/`,
      counts: {
        input: 15015,
        kept: 14210,
        filtered: 790,
        rejected: 15,
        byReason: { 'filtered:too_long_chars': 612, 'filtered:duplicate': 178, 'rejected:not_json': 15 },
        train: 10000,
        validation: 1000,
        test: 50,
      },
      jobArn:
        'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-lite-v1:0:4k/lo7152tvvl3f',
      modelArn: 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-lite-v1:0:4k/abcd1234efgh',
    }),
  },
  {
    definition: RunRejected,
    direction: 'out',
    channel: 'RunNotificationsTopic',
    description:
      "Published when a `run.requested` cannot start a run (the object it names does not exist). The envelope's `runId` and `correlationId` are the request's; the request is kept in the ingest dead-letter queue with the reason in its `btp-error` attribute. A run a request started carries the request's ids on its record (`request`), its first event and, as the `requestRunId` and `requestCorrelationId` message attributes, every `run.status.changed`.",
    example: envelope(RunRejected, {
      reason: 's3://bedrock-tuning-pipeline-dev-datasets-123456789012/datasets/dolly-ja.jsonl does not exist',
      request: { type: 'run.requested', runId: EXAMPLE_RUN, correlationId: 'c0ffee00-1111-4222-8333-444455556666' },
      source: { bucket: 'bedrock-tuning-pipeline-dev-datasets-123456789012', key: 'datasets/dolly-ja.jsonl' },
      at,
    }),
  },
];

/** `run.requested.v1.json`: one file per type and version, so a new version is a new file beside the old. */
export const schemaFileName = (m: Pick<PublicMessage, 'definition'>) =>
  `${m.definition.type}.v${m.definition.version}.json`;
