import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { buildPublish } from '../../shared/aws/queues';
import { RunCancel, RunResume } from '../../shared/messages/control';
import type { z } from 'zod';
import { MESSAGE_QUEUE, type AnyMessageDefinition } from '../../shared/messages/queues';
import { buildSend } from '../../shared/messages/send';
import { artifactsLocation } from '../../shared/report/load';
import { isTerminal } from '../../shared/runs/status';
import { cleanedOf, modelsOf, RUN_CLEANED, RunCleanedDetail, type CleanupItem } from '../cleaned';
import { STEPS, type CliContext, type Step } from '../context';
import { CliError, type Io } from '../io';
import { getRun } from './runs';

const requestedBy = () => process.env.USER ?? process.env.USERNAME ?? 'btp';

/**
 * Posts a control message to the queue that carries its type (shared/messages/queues.ts); returns it and the queue's
 * URL.
 */
async function post<D extends AnyMessageDefinition>(
  ctx: CliContext,
  def: D,
  runId: string,
  payload: z.input<D['payload']>,
) {
  const step = MESSAGE_QUEUE.get(def.type) as Step;
  const queue = await ctx.names.queueUrl(step);
  const message = await buildSend(buildPublish(ctx.sqs), { [step]: queue })(def, runId, payload);
  return { message, queue };
}

export async function cancel(
  ctx: CliContext,
  io: Io,
  runId: string,
  opts: { reason?: string; yes?: boolean; json?: boolean },
): Promise<number> {
  const run = await getRun(ctx, runId);
  if (isTerminal(run.status)) {
    throw new CliError(
      `run ${runId} has already ended (${run.status}); there is nothing to cancel`,
      `\`btp cleanup ${runId}\` removes what it left`,
      1,
      { runId, stage: run.status },
    );
  }
  if (
    !opts.yes &&
    !(await io.confirm(`Cancel run ${runId} (${run.status})? Its customization job, if any, is stopped.`))
  ) {
    throw new CliError(
      'not confirmed; nothing was sent',
      `re-run with --yes to cancel run ${runId} without a prompt`,
      1,
      { runId },
    );
  }
  const { message, queue } = await post(ctx, RunCancel, runId, {
    reason: opts.reason ?? 'cancelled from the CLI',
    requestedBy: requestedBy(),
  });
  if (opts.json)
    io.out(
      JSON.stringify(
        { runId, posted: message.type, correlationId: message.correlationId, queue, status: run.status },
        null,
        2,
      ),
    );
  else
    io.out(
      `cancel requested for run ${runId} (was ${run.status}); the monitor stops its job. Follow it with \`btp status ${runId}\`.`,
    );
  return 0;
}

export async function resume(
  ctx: CliContext,
  io: Io,
  runId: string,
  opts: { from: string; hp?: string[]; json?: boolean },
): Promise<number> {
  const run = await getRun(ctx, runId);
  const from = RunResume.payload.shape.fromStage.safeParse(opts.from);
  if (!from.success)
    throw new CliError(
      `cannot resume from ${opts.from}`,
      `use --from train (a new training attempt on the prepared data) or --from provision (throughput for the trained model)`,
      2,
      { runId },
    );
  if (run.status !== 'failed') {
    throw new CliError(
      `only a failed run can be resumed; run ${runId} is ${run.status}`,
      run.status === 'succeeded'
        ? `start a new run with \`btp run <file>\``
        : `wait for it to end (\`btp status ${runId}\`) or cancel it`,
      1,
      { runId, stage: run.status },
    );
  }
  if (run.children?.length) {
    const failed = run.children.map((c) => c.runId).join(', ');
    throw new CliError(
      `run ${runId} is an experiment: its variants are runs of their own (${failed})`,
      `resume the variant that failed: \`btp resume <variant run> --from ${from.data}\` (\`btp status ${runId}\` lists them)`,
      1,
      { runId, stage: run.failure?.stage },
    );
  }
  if (from.data === 'provision' && !run.modelArn) {
    throw new CliError(`run ${runId} has no trained model to provision`, `resume with --from train`, 1, {
      runId,
      stage: run.failure?.stage,
    });
  }
  const hyperParameters: Record<string, string> = {};
  for (const kv of opts.hp ?? []) {
    const m = /^([A-Za-z][\w.]*)=(.+)$/.exec(kv);
    if (!m) throw new CliError(`--hp ${kv} is not key=value`, 'e.g. --hp batchSize=4 --hp epochCount=2', 2, { runId });
    hyperParameters[m[1]!] = m[2]!;
  }
  const hp = Object.keys(hyperParameters).length ? hyperParameters : undefined;
  const { message, queue } = await post(ctx, RunResume, runId, {
    fromStage: from.data,
    hyperParameters: hp,
    requestedBy: requestedBy(),
  });
  if (opts.json)
    io.out(
      JSON.stringify(
        {
          runId,
          posted: message.type,
          correlationId: message.correlationId,
          queue,
          fromStage: from.data,
          hyperParameters,
        },
        null,
        2,
      ),
    );
  else
    io.out(
      `resume from ${from.data} requested for run ${runId} (failed at ${run.failure?.stage ?? 'an unknown stage'}). Follow it with \`btp status ${runId}\`.`,
    );
  return 0;
}

interface CleanupResult {
  item: CleanupItem;
  target: string;
  outcome: 'deleted' | 'skipped' | 'absent' | 'failed';
  detail?: string;
}

/** Bedrock's answer for a throughput or model that is not there (deleted already, by a cleanup or by hand). */
const isGone = (err: unknown) => (err as Error).name === 'ResourceNotFoundException';

/**
 * Removes what a run left, one kind at a time, each only after its own confirmation (or --yes): the Provisioned
 * Throughput (billed by the hour until deleted), the custom model (billed monthly for storage), the artifacts.
 * What an earlier cleanup deleted (the run's `run.cleaned` events) is not asked for again, and a resource already
 * gone counts as absent: cleaning up twice succeeds and says there was nothing left.
 */
export async function cleanup(
  ctx: CliContext,
  io: Io,
  runId: string,
  opts: { throughput?: boolean; model?: boolean; artifacts?: boolean; yes?: boolean; json?: boolean },
): Promise<number> {
  const run = await getRun(ctx, runId);
  if (!isTerminal(run.status)) {
    throw new CliError(
      `run ${runId} is still ${run.status}`,
      `cancel it first (\`btp cancel ${runId}\`), then clean up`,
      1,
      { runId, stage: run.status },
    );
  }
  const earlier = cleanedOf(await ctx.runs.listEvents(runId));
  const all = !opts.throughput && !opts.model && !opts.artifacts;
  const results: CleanupResult[] = [];
  const step = async (
    item: CleanupItem,
    target: string | undefined,
    question: string,
    act: () => Promise<{ detail?: string; none?: boolean }>,
  ) => {
    if (!target) return void results.push({ item, target: '-', outcome: 'absent' });
    const at = earlier.targets.get(target);
    if (at) return void results.push({ item, target, outcome: 'absent', detail: `deleted by btp cleanup at ${at}` });
    if (!opts.yes && !(await io.confirm(question)))
      return void results.push({ item, target, outcome: 'skipped', detail: 'not confirmed' });
    try {
      const done = await act();
      results.push({ item, target, outcome: done.none ? 'absent' : 'deleted', detail: done.detail });
    } catch (err) {
      if (isGone(err)) results.push({ item, target, outcome: 'absent', detail: 'already gone' });
      else
        results.push({ item, target, outcome: 'failed', detail: `${(err as Error).name}: ${(err as Error).message}` });
    }
  };
  if (all || opts.throughput) {
    await step(
      'throughput',
      run.provisionedModelArn,
      `Delete Provisioned Throughput ${run.provisionedModelArn}?`,
      async () => {
        await ctx.bedrock.deleteThroughput(run.provisionedModelArn!);
        return {};
      },
    );
  }
  if (all || opts.throughput) {
    // A deployment bills per token only, but it is what serves the model: it goes with the throughput option.
    if (run.deploymentArn)
      await step('deployment', run.deploymentArn, `Delete custom model deployment ${run.deploymentArn}?`, async () => {
        await ctx.bedrock.deleteDeployment(run.deploymentArn!);
        return {};
      });
  }
  if (all || opts.model) {
    const models = modelsOf(run);
    if (!models.length) await step('model', undefined, '', async () => ({}));
    for (const arn of models) {
      const which = arn === run.modelArn ? '' : ' (made by an earlier stage or part of this chained run)';
      await step('model', arn, `Delete custom model ${arn}${which}? It cannot be recovered.`, async () => {
        await ctx.bedrock.deleteCustomModel(arn);
        return {};
      });
    }
  }
  if (all || opts.artifacts) {
    const { bucket, prefix } = artifactsLocation(run, ctx.names.artifactsBucket);
    await step(
      'artifacts',
      `s3://${bucket}/${prefix}`,
      `Delete every object under s3://${bucket}/${prefix}?`,
      async () => {
        const count = await deletePrefix(ctx, bucket, prefix);
        return count ? { detail: `${count} objects` } : { none: true, detail: 'no objects there' };
      },
    );
  }
  const deleted = results.filter((r) => r.outcome === 'deleted');
  if (deleted.length) {
    const detail: RunCleanedDetail = {
      deleted: [...new Set(deleted.map((r) => r.item))],
      targets: deleted.map((r) => r.target),
      by: requestedBy(),
    };
    await ctx.runs.update(runId, run.status, {}, { type: RUN_CLEANED, detail: RunCleanedDetail.parse(detail) });
  }
  if (opts.json) io.out(JSON.stringify({ runId, results }, null, 2));
  else {
    for (const r of results)
      io.out(`${r.item.padEnd(10)} ${r.outcome.padEnd(8)} ${r.target}${r.detail ? `  (${r.detail})` : ''}`);
    if (results.every((r) => r.outcome === 'absent')) io.out(`nothing left to delete for run ${runId}`);
  }
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length) {
    throw new CliError(
      `${failed.map((r) => r.item).join(', ')} could not be deleted`,
      `check the error above and your permissions, then run \`btp cleanup ${runId} --${failed[0]!.item}\` again`,
      1,
      { runId, stage: 'cleanup' },
    );
  }
  return 0;
}

async function deletePrefix(ctx: CliContext, bucket: string, prefix: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await ctx.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length) {
      await ctx.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      count += keys.length;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return count;
}

interface Redriven {
  messageId: string;
  type?: string;
  runId?: string;
  /** The `btp-error` the pipeline attached when it dead-lettered the message as invalid. */
  error?: string;
}

/** What a dead-lettered body says it is, for the listing; a body that is not an envelope says nothing. */
function describeBody(body: string | undefined): { type?: string; runId?: string } {
  try {
    const parsed = JSON.parse(body ?? '') as { type?: unknown; runId?: unknown };
    return {
      type: typeof parsed.type === 'string' ? parsed.type : undefined,
      runId: typeof parsed.runId === 'string' ? parsed.runId : undefined,
    };
  } catch {
    return {};
  }
}

/** Messages in a queue, those another reader holds (in flight) included. */
async function queueDepth(ctx: CliContext, url: string): Promise<number> {
  const attributes = [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
    'ApproximateNumberOfMessagesDelayed',
  ] as const;
  const out = await ctx.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...attributes] }));
  return attributes.reduce((sum, a) => sum + Number(out.Attributes?.[a] ?? 0), 0);
}

/**
 * Moves dead-lettered messages back to their step's queue and lists each one moved, with the `btp-error` the
 * pipeline attached when it rejected it as invalid (those come back unless the consumer changed).
 *
 * Bounded: at most `--max`, by default the number of messages the dead-letter queue held when the redrive began. A
 * message the consumer rejects again at once lands back in the dead-letter queue as a new message with the same
 * body; it is recognised by its body's digest and left there, so a redrive never chases its own output.
 */
export async function redrive(
  ctx: CliContext,
  io: Io,
  queue: string,
  opts: { max?: string; yes?: boolean; json?: boolean },
): Promise<number> {
  const step = queue.replace(/-dlq$/, '') as Step;
  if (!STEPS.includes(step)) throw new CliError(`no queue ${queue}`, `use one of ${STEPS.join(', ')}`, 2);
  if (opts.max !== undefined && !/^\d+$/.test(opts.max))
    throw new CliError(`--max ${opts.max} is not a whole number`, 'e.g. --max 10', 2);
  const [source, target] = await Promise.all([ctx.names.dlqUrl(step), ctx.names.queueUrl(step)]);
  const waiting = await queueDepth(ctx, source);
  const max = opts.max !== undefined ? Number(opts.max) : waiting;
  if (
    !opts.yes &&
    !(await io.confirm(
      `Move up to ${max} of the ${waiting} message(s) in ${step}'s dead-letter queue back to ${step}?`,
    ))
  ) {
    throw new CliError('not confirmed; nothing was moved', `re-run with --yes`, 1);
  }
  const moved: Redriven[] = [];
  const movedBodies = new Set<string>();
  const seen = new Set<string>();
  let returned = 0;
  const began = ctx.now().getTime() - 1000;
  while (moved.length < max) {
    const out = await ctx.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: source,
        MaxNumberOfMessages: Math.min(10, max - moved.length),
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp'],
      }),
    );
    const all = out.Messages ?? [];
    // Back already (moved by this redrive and dead-lettered again since it began), or received twice: left there.
    const back = all.filter(
      (m) =>
        movedBodies.has(m.MD5OfBody!) &&
        Number(m.Attributes?.SentTimestamp ?? Infinity) >= began &&
        !seen.has(m.MessageId!),
    );
    const again = all.filter((m) => back.includes(m) || seen.has(m.MessageId!));
    const messages = all.filter((m) => !again.includes(m));
    for (const m of all) seen.add(m.MessageId!);
    returned += back.length;
    if (again.length) {
      await ctx.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: source,
          Entries: again.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      );
    }
    if (!messages.length) break;
    // Sent first, deleted after: a crash in between duplicates a message, never loses one (consumers are idempotent).
    const entries = messages.map((m, i) => {
      const attrs: Record<string, MessageAttributeValue> = { ...(m.MessageAttributes ?? {}) };
      moved.push({ messageId: m.MessageId!, ...describeBody(m.Body), error: attrs['btp-error']?.StringValue });
      for (const k of Object.keys(attrs)) if (k.startsWith('btp-')) delete attrs[k];
      return { Id: String(i), MessageBody: m.Body!, MessageAttributes: Object.keys(attrs).length ? attrs : undefined };
    });
    const sent = await ctx.sqs.send(new SendMessageBatchCommand({ QueueUrl: target, Entries: entries }));
    if (sent.Failed?.length)
      throw new CliError(
        `${sent.Failed.length} message(s) could not be sent back to ${step}: ${sent.Failed[0]!.Message}`,
        'they stay in the dead-letter queue; run the redrive again',
        1,
        { stage: step },
      );
    await ctx.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: source,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    for (const m of messages) movedBodies.add(m.MD5OfBody!);
  }
  const left = await queueDepth(ctx, source);
  const invalid = moved.filter((m) => m.error);
  const byReason: Record<string, number> = {};
  for (const m of invalid) byReason[m.error!.slice(0, 120)] = (byReason[m.error!.slice(0, 120)] ?? 0) + 1;
  if (opts.json) {
    io.out(
      JSON.stringify(
        {
          queue: step,
          from: source,
          to: target,
          max,
          moved: moved.length,
          left,
          returned,
          invalid: invalid.length,
          byReason,
          messages: moved,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  io.out(
    `moved ${moved.length} message(s) from ${step}'s dead-letter queue back to ${step}; ${left} left in the dead-letter queue`,
  );
  for (const m of moved) {
    io.out(
      `  ${m.messageId}  ${m.type ?? '(not a pipeline message)'}${m.runId ? ` run ${m.runId}` : ''}${m.error ? `\n      btp-error: ${m.error}` : ''}`,
    );
  }
  if (returned)
    io.out(
      `${returned} of them were rejected again at once and are back in the dead-letter queue (left there, not moved again)`,
    );
  if (invalid.length)
    io.out(`${invalid.length} had been rejected as invalid; unless ${step} changed they will come back`);
  if (left && moved.length >= max && opts.max === undefined)
    io.out(`the redrive stops at what the queue held when it began (${max}); run it again for the rest`);
  return 0;
}
