import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidMessageError, parseMessage, type MessageDefinition } from '../../../shared/messages/envelope';
import {
  ModelProvision,
  PUBLIC_MESSAGES,
  RunCancel,
  RunRequested,
  RunRejected,
  RunResume,
  RunStatusChanged,
  schemaFileName,
} from '../../../shared/messages/registry';
import { MESSAGES_DIR, renderMessageSchemas } from '../../../scripts/generate-message-schemas';

const envelope = (type: string, version: number, payload: unknown) => ({
  type,
  version,
  runId: 'run-1',
  correlationId: 'corr-1',
  sentAt: '2025-06-01T09:30:00.000Z',
  payload,
});

interface Case {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  def: MessageDefinition<string, any>;
  valid: unknown[];
  invalid: Array<{ payload: unknown; field: string }>;
}

/** For each public message: bodies that must be accepted and bodies that must be refused, with the field named. */
const cases: Case[] = [
  {
    def: RunRequested,
    valid: [
      { source: { bucket: 'my-bucket', key: 'datasets/a.jsonl' } },
      { source: { bucket: 'my-bucket', key: 'k', versionId: 'v1' }, config: { split: { train: 10 } } },
    ],
    invalid: [
      { payload: { source: { bucket: 'my-bucket' } }, field: 'payload.source.key' },
      { payload: { source: { bucket: 'b', key: 'k' } }, field: 'payload.source.bucket' },
      { payload: { source: { bucket: 'my-bucket', key: 'k' }, config: 'fast' }, field: 'payload.config' },
    ],
  },
  {
    def: RunCancel,
    valid: [{}, { reason: 'wrong data', requestedBy: 'alice' }],
    invalid: [{ payload: { reason: '' }, field: 'payload.reason' }],
  },
  {
    def: RunResume,
    valid: [{ fromStage: 'train' }, { fromStage: 'provision', hyperParameters: { epochCount: '2' } }],
    invalid: [
      { payload: { fromStage: 'ingest' }, field: 'payload.fromStage' },
      {
        payload: { fromStage: 'train', hyperParameters: { epochCount: 2 } },
        field: 'payload.hyperParameters.epochCount',
      },
    ],
  },
  {
    def: ModelProvision,
    valid: [
      { modelArn: 'arn:aws:bedrock:us-east-1:1:custom-model/x' },
      { modelArn: 'arn:x', modelUnits: 2, ttlHours: 0.5 },
    ],
    invalid: [
      { payload: {}, field: 'payload.modelArn' },
      { payload: { modelArn: 'arn:x', modelUnits: 0 }, field: 'payload.modelUnits' },
    ],
  },
  {
    def: RunStatusChanged,
    valid: [
      { to: 'requested', at: '2025-06-01T09:30:00.000Z', version: 1, event: 'run.created' },
      {
        from: 'preparing',
        to: 'failed',
        at: '2025-06-01T09:30:00.000Z',
        version: 3,
        event: 'chunk.failed',
        failure: { stage: 'transform', reason: 'bad JSON', location: { line: 7 }, at: '2025-06-01T09:30:00.000Z' },
      },
      {
        from: 'splitting',
        to: 'failed',
        at: '2025-06-01T09:30:00.000Z',
        version: 4,
        event: 'split.failed',
        failure: {
          stage: 'split',
          reason: 'only 0 eligible records',
          hint: 'set prep.template to "text"',
          at: '2025-06-01T09:30:00.000Z',
        },
      },
    ],
    invalid: [
      { payload: { to: 'exploded', at: '2025-06-01T09:30:00.000Z', version: 1, event: 'x' }, field: 'payload.to' },
      { payload: { to: 'failed', at: 'yesterday', version: 1, event: 'x' }, field: 'payload.at' },
      { payload: { to: 'failed', at: '2025-06-01T09:30:00.000Z', version: 0, event: 'x' }, field: 'payload.version' },
      {
        payload: {
          to: 'failed',
          at: '2025-06-01T09:30:00.000Z',
          version: 2,
          event: 'x',
          failure: { stage: 'split', reason: 'r', hint: 3, at: '2025-06-01T09:30:00.000Z' },
        },
        field: 'payload.failure.hint',
      },
    ],
  },
  {
    def: RunRejected,
    valid: [
      {
        reason: 's3://b/k does not exist',
        request: { type: 'run.requested', runId: 'mine-1', correlationId: 'c-1' },
        at: '2025-06-01T09:30:00.000Z',
      },
    ],
    invalid: [
      {
        payload: {
          reason: '',
          request: { type: 'run.requested', runId: 'r', correlationId: 'c' },
          at: '2025-06-01T09:30:00.000Z',
        },
        field: 'payload.reason',
      },
      { payload: { reason: 'x', at: '2025-06-01T09:30:00.000Z' }, field: 'payload.request' },
    ],
  },
];

describe('public message schemas', () => {
  it('every public message has valid and invalid examples here', () => {
    expect(cases.map((c) => c.def.type).sort()).toEqual(PUBLIC_MESSAGES.map((m) => m.definition.type).sort());
  });

  describe.each(cases)('$def.type', ({ def, valid, invalid }) => {
    it.each(valid.map((p) => [JSON.stringify(p), p]))('accepts %s', (_name, payload) => {
      expect(parseMessage(def, JSON.stringify(envelope(def.type, def.version, payload))).payload).toBeDefined();
    });

    it.each(invalid.map((c) => [c.field, c.payload]))('refuses a bad %s, naming it', (field, payload) => {
      const body = JSON.stringify(envelope(def.type, def.version, payload));
      expect(() => parseMessage(def, body)).toThrow(InvalidMessageError);
      expect(() => parseMessage(def, body)).toThrow(`${field}:`);
    });

    it('refuses another version, another type and a body that is not JSON', () => {
      const payload = valid[0];
      expect(() => parseMessage(def, envelope(def.type, def.version + 1, payload))).toThrow('version:');
      expect(() => parseMessage(def, envelope('other.type', def.version, payload))).toThrow('type:');
      expect(() => parseMessage(def, '{not json')).toThrow('not JSON');
      expect(() => parseMessage(def, { ...envelope(def.type, def.version, payload), sentAt: 'now' })).toThrow(
        'sentAt:',
      );
    });
  });

  it.each(PUBLIC_MESSAGES.map((m) => [m.definition.type, m]))('the example of %s is valid', (_type, m) => {
    expect(m.definition.schema.safeParse(m.example).success).toBe(true);
  });
});

describe('published JSON Schemas (docs/messages)', () => {
  const rendered = renderMessageSchemas();

  it('are exactly what the zod schemas generate: change a schema, regenerate, and review the diff', () => {
    // A failure here means a schema changed without `npm run messages:schemas`. If the change removes or renames a
    // field, narrows a type or adds a required field, it breaks subscribers and posters: give it a new version.
    const onDisk = readdirSync(MESSAGES_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(onDisk).toEqual([...rendered.keys()].sort());
    for (const [file, text] of rendered)
      expect([file, readFileSync(path.join(MESSAGES_DIR, file), 'utf8')]).toEqual([file, text]);
  });

  it.each(PUBLIC_MESSAGES.map((m) => [schemaFileName(m), m]))(
    '%s carries an example its message accepts',
    (file, m) => {
      const published = JSON.parse(readFileSync(path.join(MESSAGES_DIR, file), 'utf8')) as {
        examples: unknown[];
        required: string[];
        properties: Record<string, { const?: unknown }>;
      };
      expect(published.examples).toHaveLength(1);
      expect(() => parseMessage(m.definition, published.examples[0])).not.toThrow();
      expect(published.properties.type?.const).toBe(m.definition.type);
      expect(published.properties.version?.const).toBe(m.definition.version);
      expect(published.required).toEqual(
        expect.arrayContaining(['type', 'version', 'runId', 'correlationId', 'sentAt', 'payload']),
      );
    },
  );
});
