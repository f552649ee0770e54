import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { buildPublish } from '../../shared/aws/queues';
import { RunCancel, RunResume } from '../../shared/messages/control';
import type { z } from 'zod';
import { MESSAGE_QUEUE, type AnyMessageDefinition } from '../../shared/messages/queues';
import { buildSend } from '../../shared/messages/send';
import { artifactsLocation } from '../../shared/report/load';
import type { Run } from '../../shared/runs/run';
import { isTerminal } from '../../shared/runs/status';
import { STEPS, type CliContext, type Step } from '../context';
import { CliError, type Io } from '../io';
import { getRun } from './runs';

const requestedBy = () => process.env.USER ?? process.env.USERNAME ?? 'btp';

/** Posts a control message to the queue that carries its type (shared/messages/queues.ts); returns it and the queue's URL. */
async function post<D extends AnyMessageDefinition>(ctx: CliContext, def: D, runId: string, payload: z.input<D['payload']>) {
  const step = MESSAGE_QUEUE.get(def.type) as Step;
  const queue = await ctx.names.queueUrl(step);
  const message = await buildSend(buildPublish(ctx.sqs), { [step]: queue })(def, runId, payload);
  return { message, queue };
}

export async function cancel(ctx: CliContext, io: Io, runId: string, opts: { reason?: string; yes?: boolean; json?: boolean }): Promise<number> {
  const run = await getRun(ctx, runId);
  if (isTerminal(run.status)) {
    throw new CliError(`run ${runId} has already ended (${run.status}); there is nothing to cancel`, `\`btp cleanup ${runId}\` removes what it left`, 1, { runId, stage: run.status });
  }
  if (!opts.yes && !(await io.confirm(`Cancel run ${runId} (${run.status})? Its customization job, if any, is stopped.`))) {
    throw new CliError('not confirmed; nothing was sent', `re-run with --yes to cancel run ${runId} without a prompt`, 1, { runId });
  }
  const { message, queue } = await post(ctx, RunCancel, runId, { reason: opts.reason ?? 'cancelled from the CLI', requestedBy: requestedBy() });
  if (opts.json) io.out(JSON.stringify({ runId, posted: message.type, correlationId: message.correlationId, queue, status: run.status }, null, 2));
  else io.out(`cancel requested for run ${runId} (was ${run.status}); the monitor stops its job. Follow it with \`btp status ${runId}\`.`);
  return 0;
}

export async function resume(ctx: CliContext, io: Io, runId: string, opts: { from: string; hp?: string[]; json?: boolean }): Promise<number> {
  const run = await getRun(ctx, runId);
  const from = RunResume.payload.shape.fromStage.safeParse(opts.from);
  if (!from.success) throw new CliError(`cannot resume from ${opts.from}`, `use --from train (a new training attempt on the prepared data) or --from provision (throughput for the trained model)`, 2, { runId });
  if (run.status !== 'failed') {
    throw new CliError(`only a failed run can be resumed; run ${runId} is ${run.status}`, run.status === 'succeeded' ? `start a new run with \`btp run <file>\`` : `wait for it to end (\`btp status ${runId}\`) or cancel it`, 1, { runId, stage: run.status });
  }
  if (from.data === 'provision' && !run.modelArn) {
    throw new CliError(`run ${runId} has no trained model to provision`, `resume with --from train`, 1, { runId, stage: run.failure?.stage });
  }
  const hyperParameters: Record<string, string> = {};
  for (const kv of opts.hp ?? []) {
    const m = /^([A-Za-z][\w.]*)=(.+)$/.exec(kv);
    if (!m) throw new CliError(`--hp ${kv} is not key=value`, 'e.g. --hp batchSize=4 --hp epochCount=2', 2, { runId });
    hyperParameters[m[1]!] = m[2]!;
  }
  const hp = Object.keys(hyperParameters).length ? hyperParameters : undefined;
  const { message, queue } = await post(ctx, RunResume, runId, { fromStage: from.data, hyperParameters: hp, requestedBy: requestedBy() });
  if (opts.json) io.out(JSON.stringify({ runId, posted: message.type, correlationId: message.correlationId, queue, fromStage: from.data, hyperParameters }, null, 2));
  else io.out(`resume from ${from.data} requested for run ${runId} (failed at ${run.failure?.stage ?? 'an unknown stage'}). Follow it with \`btp status ${runId}\`.`);
  return 0;
}

interface CleanupResult {
  item: 'throughput' | 'model' | 'artifacts';
  target: string;
  outcome: 'deleted' | 'skipped' | 'absent' | 'failed';
  detail?: string;
}

/**
 * Removes what a run left, one kind at a time, each only after its own confirmation (or --yes): the Provisioned
 * Throughput (billed by the hour until deleted), the custom model (billed monthly for storage), the artifacts.
 */
export async function cleanup(
  ctx: CliContext,
  io: Io,
  runId: string,
  opts: { throughput?: boolean; model?: boolean; artifacts?: boolean; yes?: boolean; json?: boolean },
): Promise<number> {
  const run = await getRun(ctx, runId);
  if (!isTerminal(run.status)) {
    throw new CliError(`run ${runId} is still ${run.status}`, `cancel it first (\`btp cancel ${runId}\`), then clean up`, 1, { runId, stage: run.status });
  }
  const all = !opts.throughput && !opts.model && !opts.artifacts;
  const results: CleanupResult[] = [];
  const step = async (item: CleanupResult['item'], target: string | undefined, question: string, act: () => Promise<string | undefined>) => {
    if (!target) return void results.push({ item, target: '-', outcome: 'absent' });
    if (!opts.yes && !(await io.confirm(question))) return void results.push({ item, target, outcome: 'skipped', detail: 'not confirmed' });
    try {
      results.push({ item, target, outcome: 'deleted', detail: await act() });
    } catch (err) {
      results.push({ item, target, outcome: 'failed', detail: `${(err as Error).name}: ${(err as Error).message}` });
    }
  };
  if (all || opts.throughput) {
    await step('throughput', run.provisionedModelArn, `Delete Provisioned Throughput ${run.provisionedModelArn}?`, async () => {
      await ctx.bedrock.deleteThroughput(run.provisionedModelArn!);
      return undefined;
    });
  }
  if (all || opts.model) {
    const models = modelsOf(run);
    if (!models.length) await step('model', undefined, '', async () => undefined);
    for (const arn of models) {
      const which = arn === run.modelArn ? '' : ' (made by an earlier stage or part of this chained run)';
      await step('model', arn, `Delete custom model ${arn}${which}? It cannot be recovered.`, async () => {
        await ctx.bedrock.deleteCustomModel(arn);
        return undefined;
      });
    }
  }
  if (all || opts.artifacts) {
    const { bucket, prefix } = artifactsLocation(run, ctx.names.artifactsBucket);
    await step('artifacts', `s3://${bucket}/${prefix}`, `Delete every object under s3://${bucket}/${prefix}?`, async () => `${await deletePrefix(ctx, bucket, prefix)} objects`);
  }
  const deleted = results.filter((r) => r.outcome === 'deleted').map((r) => r.item);
  if (deleted.length) await ctx.runs.update(runId, run.status, {}, { type: 'run.cleaned', detail: { deleted, by: requestedBy() } });
  if (opts.json) io.out(JSON.stringify({ runId, results }, null, 2));
  else for (const r of results) io.out(`${r.item.padEnd(10)} ${r.outcome.padEnd(8)} ${r.target}${r.detail ? `  (${r.detail})` : ''}`);
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length) {
    throw new CliError(`${failed.map((r) => r.item).join(', ')} could not be deleted`, `check the error above and your permissions, then run \`btp cleanup ${runId} --${failed[0]!.item}\` again`, 1, { runId, stage: 'cleanup' });
  }
  return 0;
}

/**
 * Every custom model the run made, earliest first: a chained run's earlier stages and sequential parts each leave a
 * model of their own (stored, and billed, until deleted), the last is the run's model.
 */
export function modelsOf(run: Run): string[] {
  const arns = Object.entries(run.stages ?? {})
    .filter(([key]) => key.startsWith('train'))
    .map(([, record]) => record.outputs?.modelArn)
    .filter((arn): arn is string => typeof arn === 'string');
  if (run.modelArn) arns.push(run.modelArn);
  return [...new Set(arns)];
}

async function deletePrefix(ctx: CliContext, bucket: string, prefix: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await ctx.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length) {
      await ctx.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      count += keys.length;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return count;
}

/**
 * Moves dead-lettered messages back to their step's queue, with a count. Messages the pipeline dead-lettered as
 * invalid (a `btp-error` attribute) fail validation again unless the consumer changed, so they are counted apart.
 */
export async function redrive(ctx: CliContext, io: Io, queue: string, opts: { max?: string; yes?: boolean; json?: boolean }): Promise<number> {
  const step = queue.replace(/-dlq$/, '') as Step;
  if (!STEPS.includes(step)) throw new CliError(`no queue ${queue}`, `use one of ${STEPS.join(', ')}`, 2);
  const max = opts.max ? Number(opts.max) : Infinity;
  const [source, target] = await Promise.all([ctx.names.dlqUrl(step), ctx.names.queueUrl(step)]);
  if (!opts.yes && !(await io.confirm(`Move messages from ${step}'s dead-letter queue back to ${step}?`))) {
    throw new CliError('not confirmed; nothing was moved', `re-run with --yes`, 1);
  }
  let moved = 0;
  let invalid = 0;
  const reasons = new Map<string, number>();
  while (moved < max) {
    const out = await ctx.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: source, MaxNumberOfMessages: Math.min(10, max - moved), WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }),
    );
    const messages = out.Messages ?? [];
    if (!messages.length) break;
    // Sent first, deleted after: a crash in between duplicates a message, never loses one (consumers are idempotent).
    const entries = messages.map((m, i) => {
      const attrs: Record<string, MessageAttributeValue> = { ...(m.MessageAttributes ?? {}) };
      const reason = attrs['btp-error']?.StringValue;
      if (reason) {
        invalid++;
        const key = reason.slice(0, 120);
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
      for (const k of Object.keys(attrs)) if (k.startsWith('btp-')) delete attrs[k];
      return { Id: String(i), MessageBody: m.Body!, MessageAttributes: Object.keys(attrs).length ? attrs : undefined };
    });
    const sent = await ctx.sqs.send(new SendMessageBatchCommand({ QueueUrl: target, Entries: entries }));
    if (sent.Failed?.length) throw new CliError(`${sent.Failed.length} message(s) could not be sent back to ${step}: ${sent.Failed[0]!.Message}`, 'they stay in the dead-letter queue; run the redrive again', 1, { stage: step });
    await ctx.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: source, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    moved += messages.length;
  }
  const byReason = Object.fromEntries(reasons);
  if (opts.json) io.out(JSON.stringify({ queue: step, from: source, to: target, moved, invalid, byReason }, null, 2));
  else {
    io.out(`moved ${moved} message(s) from ${step}'s dead-letter queue back to ${step}`);
    if (invalid) io.out(`${invalid} of them had been rejected as invalid; unless ${step} changed they will come back:\n${[...reasons].map(([r, n]) => `  ${n} x ${r}`).join('\n')}`);
  }
  return 0;
}
