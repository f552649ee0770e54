import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRunStore, fromItem } from '../../shared/runs/dynamo-run-store';
import type { Run } from '../../shared/runs/run';
import {
  currentPrepare,
  jobStatusShown,
  lastSubmittedJob,
  runCostEstimateUsd,
  runCounts,
  runMetrics,
} from '../../shared/runs/record';
import { describeStages } from '../../shared/runs/stages';
import { isTerminal } from '../../shared/runs/status';

/** Finds the run started from an object, by its source bucket and key (a scan: fine for a local or small table). */
export async function findRunBySource(
  db: DynamoDBDocumentClient,
  table: string,
  bucket: string,
  key: string,
): Promise<Run | undefined> {
  let startKey: Record<string, unknown> | undefined;
  const found: Run[] = [];
  do {
    const out = await db.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'sk = :run AND #src.#b = :b AND #src.#k = :k',
        ExpressionAttributeNames: { '#src': 'source', '#b': 'bucket', '#k': 'key' },
        ExpressionAttributeValues: { ':run': 'RUN', ':b': bucket, ':k': key },
        ExclusiveStartKey: startKey,
      }),
    );
    found.push(...(out.Items ?? []).map(fromItem));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
}

export interface FollowOptions {
  timeoutMs: number;
  pollMs?: number;
  print: (line: string) => void;
}

/** Prints a line whenever the run's status, counts or job state change, until the run ends or time runs out. */
export async function followRun(store: DynamoRunStore, runId: string, opts: FollowOptions): Promise<Run | undefined> {
  const end = Date.now() + opts.timeoutMs;
  let last = '';
  let run: Run | undefined;
  const started = Date.now();
  while (Date.now() < end) {
    run = await store.get(runId);
    if (run) {
      const line = describeProgress(run);
      if (line !== last) {
        opts.print(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
        last = line;
      }
      if (isTerminal(run.status)) return run;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
  }
  return run;
}

export function describeProgress(run: Run, children: Run[] = []): string {
  const parts = [`status=${run.status}`];
  if (children.length) parts.push(`variants: ${variantTally(children)}`);
  const chunks = currentPrepare(run)?.plan?.chunks;
  if (chunks) parts.push(`chunks=${chunks}`);
  const c = runCounts(run);
  if (c) {
    parts.push(`records in=${c.input} kept=${c.kept} filtered=${c.filtered} rejected=${c.rejected}`);
    if (c.train !== undefined) parts.push(`train=${c.train} validation=${c.validation ?? 0} test=${c.test ?? 0}`);
  }
  const jobStatus = jobStatusShown(run, lastSubmittedJob(run));
  if (jobStatus) parts.push(`job=${jobStatus}`);
  if (run.status === 'queued' && run.waiting) parts.push(`waiting=${run.waiting.slot}`);
  if (run.provisionedModelArn) parts.push('throughput=yes');
  if (run.deploymentArn) parts.push('deployment=yes');
  return parts.join('  ');
}

export async function listArtifacts(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<Array<{ key: string; size: number }>> {
  const out: Array<{ key: string; size: number }> = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(page.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0 })));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * The run summary. `children`: an experiment's variants' runs as read now (one line each, then their state).
 */
export function summarize(
  run: Run,
  artifacts: Array<{ key: string; size: number }>,
  bucket: string,
  children: Run[] = [],
): string {
  const lines = [
    '',
    '==== run summary ====',
    `run id:      ${run.runId}`,
    `status:      ${run.status}`,
    `source:      s3://${run.source.bucket}/${run.source.key}`,
  ];
  if (run.parentRunId && run.variant)
    lines.push(`variant:     ${run.variant.name} of experiment ${run.parentRunId}${variantTraining(run)}`);
  if (run.request) lines.push(`request:     runId ${run.request.runId}, correlationId ${run.request.correlationId}`);
  const c = runCounts(run);
  if (c) {
    lines.push(`records:     input ${c.input} = kept ${c.kept} + filtered ${c.filtered} + rejected ${c.rejected}`);
    for (const [reason, n] of Object.entries(c.byReason).sort()) lines.push(`             ${reason}: ${n}`);
    if (c.train !== undefined)
      lines.push(`split:       train ${c.train}, validation ${c.validation ?? 0}, test ${c.test ?? 0}`);
  }
  lines.push(...chainedStages(run));
  lines.push(...variantLines(children));
  for (const w of run.warnings ?? []) lines.push(`warning:     ${w}`);
  const cost = runCostEstimateUsd(run);
  if (cost !== undefined) lines.push(`cost est.:   $${cost.toFixed(2)}`);
  const job = lastSubmittedJob(run);
  if (job) lines.push(`job:         ${job.jobArn} (${jobStatusShown(run, job) ?? '?'})`);
  if (run.modelArn) lines.push(`model:       ${run.modelArn}`);
  const metrics = runMetrics(run);
  if (metrics)
    lines.push(`loss:        training ${metrics.trainingLoss ?? '-'}, validation ${metrics.validationLoss ?? '-'}`);
  if (run.provisionedModelArn)
    lines.push(
      `throughput:  ${run.provisionedModelArn}${run.throughputExpiresAt ? ` (expires ${run.throughputExpiresAt})` : ''}`,
    );
  if (run.deploymentArn) lines.push(`deployment:  ${run.deploymentArn} (on demand: billed per token, no hourly bill)`);
  if (run.failure) {
    const loc = run.failure.location;
    const where = loc
      ? ` at ${[loc.file, loc.line !== undefined ? `line ${loc.line}` : '', loc.row !== undefined ? `row ${loc.row}` : '', loc.field ? `field ${loc.field}` : ''].filter(Boolean).join(', ')}`
      : '';
    lines.push(`failure:     [${run.failure.stage}] ${run.failure.reason}${where}`);
    if (run.failure.hint) lines.push(`hint:        ${run.failure.hint}`);
  }
  if (artifacts.length) {
    lines.push('artifacts:');
    for (const a of artifacts) lines.push(`             s3://${bucket}/${a.key} (${a.size} bytes)`);
  }
  return lines.join('\n');
}

/** A chained run's stages, one line each with what it prepared, then the model(s) it made. */
function chainedStages(run: Run): string[] {
  const stages = describeStages(run);
  if (!stages.length) return [];
  const lines = ['stages:'];
  for (const st of stages) {
    const c = st.counts;
    const records = c
      ? `input ${c.input}, kept ${c.kept}${c.train !== undefined ? `, train ${c.train} / validation ${c.validation ?? 0} / test ${c.test ?? 0}` : ''}`
      : 'not prepared yet';
    lines.push(`  ${st.stage}: ${st.customizationType} on s3://${st.source.bucket}/${st.source.key}: ${records}`);
    for (const arn of st.models) lines.push(`     model ${arn}`);
  }
  return lines;
}

/** How many of an experiment's variants are in each status: `2 training, 1 queued, 1 succeeded`. */
export function variantTally(children: Run[]): string {
  const counts = new Map<string, number>();
  for (const c of children) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
}

const hyperParameterText = (hp: Record<string, string>): string =>
  Object.entries(hp)
    .map(([k, x]) => `${k}=${x}`)
    .join(' ');

/** What a variant trains: its hyperparameters, and the shared pre-training it starts from. */
const variantTraining = (run: Run): string => {
  const v = run.variant;
  if (!v) return '';
  const from = v.pretrained
    ? `from stage ${v.pretrained.stage}'s model ${v.pretrained.modelArn}`
    : 'from the base model';
  return ` (${hyperParameterText(v.hyperParameters)}; ${from})`;
};

/** An experiment's variants, one block each: name, run, status, job, model and throughput. */
function variantLines(children: Run[]): string[] {
  if (!children.length) return [];
  const lines = ['variants:'];
  for (const c of children) {
    const job = lastSubmittedJob(c);
    const from = c.variant?.pretrained ? 'on the pre-trained model' : 'on the base model';
    const hp = c.variant ? hyperParameterText(c.variant.hyperParameters) : '';
    lines.push(`  ${c.variant?.name ?? '?'}: run ${c.runId} ${c.status}, ${from}, ${hp}`);
    if (job?.jobStatus) lines.push(`     job ${job.jobArn} (${job.jobStatus})`);
    if (c.modelArn) lines.push(`     model ${c.modelArn}`);
    if (c.provisionedModelArn) lines.push(`     throughput ${c.provisionedModelArn}`);
    if (c.deploymentArn) lines.push(`     deployment ${c.deploymentArn}`);
    if (c.failure) lines.push(`     failure [${c.failure.stage}] ${c.failure.reason}`);
  }
  return lines;
}
