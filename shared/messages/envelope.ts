import { randomUUID } from 'node:crypto';
import * as z from 'zod';

/**
 * Every message the pipeline's services pass to each other, and that other teams may post, travels in one envelope.
 * `type` is dotted lower case; a breaking change to a payload means a new `version`.
 */
export const Envelope = z.object({
  type: z.string().regex(/^[a-z]+(\.[a-z]+)+$/),
  version: z.number().int().positive(),
  runId: z.string().min(1),
  correlationId: z.string().min(1),
  sentAt: z.iso.datetime(),
  payload: z.unknown(),
});
export type Envelope = z.infer<typeof Envelope>;

export interface MessageDefinition<T extends string, P extends z.ZodType> {
  type: T;
  version: number;
  payload: P;
  schema: z.ZodType<Envelope & { type: T; payload: z.infer<P> }>;
}

/**
 * Declares a message type: its envelope schema is derived, so producer and consumer share one definition. The payload
 * schema and the envelope schema are built when first used, not when the module loads: every function imports every
 * definition (the queues' table, shared/messages/queues.ts), and parses or sends only a few of them, while building a
 * zod schema costs its cold start (zod v4 sets up each schema's methods and checks when it is made).
 */
export function defineMessage<T extends string, P extends z.ZodType>(
  type: T,
  version: number,
  payload: () => P,
): MessageDefinition<T, P> {
  let built: Pick<MessageDefinition<T, P>, 'payload' | 'schema'> | undefined;
  const build = () => {
    if (built) return built;
    const payloadSchema = payload();
    const schema = Envelope.extend({
      type: z.literal(type),
      version: z.literal(version),
      payload: payloadSchema,
    }) as unknown as z.ZodType<Envelope & { type: T; payload: z.infer<P> }>;
    return (built = { payload: payloadSchema, schema });
  };
  return {
    type,
    version,
    get payload() {
      return build().payload;
    },
    get schema() {
      return build().schema;
    },
  };
}

export type MessageOf<D> =
  D extends MessageDefinition<infer T, infer P> ? Envelope & { type: T; payload: z.infer<P> } : never;

/** Builds a message, validating its payload before it leaves the producer. */
export function buildMessage<T extends string, P extends z.ZodType>(
  def: MessageDefinition<T, P>,
  runId: string,
  payload: z.input<P>,
  correlationId: string = randomUUID(),
  now: () => Date = () => new Date(),
): Envelope & { type: T; payload: z.infer<P> } {
  return def.schema.parse({
    type: def.type,
    version: def.version,
    runId,
    correlationId,
    sentAt: now().toISOString(),
    payload,
  });
}

/**
 * A message body that is not valid: the error says what and where, so the record can be dead-lettered with a reason.
 */
export class InvalidMessageError extends Error {
  constructor(
    message: string,
    readonly issues: z.core.$ZodIssue[] = [],
  ) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new InvalidMessageError(`message body is not JSON: ${(err as Error).message}`);
  }
}

/** Parses a message body against one definition; throws InvalidMessageError naming each failing field. */
export function parseMessage<T extends string, P extends z.ZodType>(
  def: MessageDefinition<T, P>,
  body: string | unknown,
) {
  const value = typeof body === 'string' ? parseJson(body) : body;
  const result = def.schema.safeParse(value);
  if (!result.success) {
    const where = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidMessageError(`invalid ${def.type} v${def.version} message: ${where}`, result.error.issues);
  }
  return result.data;
}
