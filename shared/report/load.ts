import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readText } from '../aws/s3-io';
import type { Run } from '../runs/run';
import { buildReport, type RunReport } from './build-report';
import { droppedForLength, lengthHistogram, parseMetricsCsv, readEvaluationSamples, readManifest, type ReportInputs } from './inputs';

/** Where a run's artifacts are: its artifactsPrefix (`s3://<bucket>/runs/<runId>/`), else the given bucket. */
export function artifactsLocation(run: Run, fallbackBucket?: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(run.artifactsPrefix ?? '');
  if (m) return { bucket: m[1]!, prefix: m[2]!.endsWith('/') ? m[2]! : `${m[2]}/` };
  if (!fallbackBucket) throw new Error(`run ${run.runId} has no artifacts prefix and no artifacts bucket was given`);
  return { bucket: fallbackBucket, prefix: `runs/${run.runId}/` };
}

export const reportKeys = (run: Run, fallbackBucket?: string) => {
  const { bucket, prefix } = artifactsLocation(run, fallbackBucket);
  return { bucket, html: `${prefix}report.html`, markdown: `${prefix}report.md` };
};

async function list(s3: S3Client, bucket: string, prefix: string): Promise<Array<{ key: string; modified: number }>> {
  const out: Array<{ key: string; modified: number }> = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(page.Contents ?? []).map((o) => ({ key: o.Key!, modified: o.LastModified?.getTime() ?? 0 })));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * The job's metrics file of a name, anywhere under the output prefix (layouts vary: api §9): the current job's
 * (`model-customization-job-<id>` from the run's job ARN) when there, else the newest.
 */
function pickMetrics(keys: Array<{ key: string; modified: number }>, fileName: string, jobId: string | undefined): string | undefined {
  const found = keys.filter((k) => k.key.endsWith(`/${fileName}`));
  const ofJob = jobId ? found.filter((k) => k.key.includes(`model-customization-job-${jobId}/`)) : [];
  return (ofJob.length ? ofJob : found).sort((a, b) => b.modified - a.modified)[0]?.key;
}

/** Gathers the report's inputs from the run and its artifacts; every artifact is optional. */
export async function loadReportInputs(run: Run, s3: S3Client, opts: { artifactsBucket?: string; now?: () => Date } = {}): Promise<ReportInputs> {
  const { bucket, prefix } = artifactsLocation(run, opts.artifactsBucket);
  const keys = await list(s3, bucket, prefix);
  const manifestText = await readText(s3, bucket, `${prefix}manifest.json`);
  let manifest: unknown;
  try {
    manifest = manifestText ? JSON.parse(manifestText) : undefined;
  } catch {
    manifest = undefined; // a half-written or foreign manifest: report without it
  }
  const jobId = run.jobArn?.split('/').at(-1);
  const trainingKey = pickMetrics(keys, 'step_wise_training_metrics.csv', jobId);
  const validationKey = pickMetrics(keys, 'validation_metrics.csv', jobId);
  const samplesKey = keys.find((k) => /\/evaluation[^/]*\/.*samples[^/]*\.jsonl?$|\/evaluation[^/]*\.jsonl?$/.test(k.key))?.key;
  const [training, validation, samples] = await Promise.all([
    trainingKey ? readText(s3, bucket, trainingKey) : undefined,
    validationKey ? readText(s3, bucket, validationKey) : undefined,
    samplesKey ? readText(s3, bucket, samplesKey) : undefined,
  ]);
  let view = manifest === undefined ? undefined : readManifest(manifest);
  // No histogram in the manifest: count it from the prepared sets (what Bedrock trains on), up to the limit.
  const limit = run.config?.prep?.filters?.maxChars;
  const prepared = keys.filter((k) => /\/prepared\/[^/]+\.jsonl$/.test(k.key));
  if (limit && prepared.length && !view?.lengths) {
    const texts = await Promise.all(prepared.map((k) => readText(s3, bucket, k.key)));
    const bins = lengthHistogram(texts.flatMap((t) => (t ?? '').split('\n')), limit, droppedForLength(run.counts?.byReason));
    view = { ...(view ?? {}), lengths: { bins, limit, unit: 'characters', ...(view?.lengthStats ?? {}) } };
  }
  return {
    run,
    manifest: view,
    training: training ? parseMetricsCsv(training) : undefined,
    validation: validation ? parseMetricsCsv(validation) : undefined,
    evaluationSamples: samples ? readEvaluationSamples(samples) : undefined,
    generatedAt: (opts.now ?? (() => new Date()))().toISOString(),
  };
}

/** Builds the report and writes it beside the run's artifacts: `report.html` and `report.md`. */
export async function writeReport(run: Run, s3: S3Client, opts: { artifactsBucket?: string; now?: () => Date } = {}): Promise<RunReport & { bucket: string; htmlKey: string; markdownKey: string }> {
  const report = buildReport(await loadReportInputs(run, s3, opts));
  const keys = reportKeys(run, opts.artifactsBucket);
  await s3.send(new PutObjectCommand({ Bucket: keys.bucket, Key: keys.html, Body: report.html, ContentType: 'text/html; charset=utf-8' }));
  await s3.send(new PutObjectCommand({ Bucket: keys.bucket, Key: keys.markdown, Body: report.markdown, ContentType: 'text/markdown; charset=utf-8' }));
  return { ...report, bucket: keys.bucket, htmlKey: keys.html, markdownKey: keys.markdown };
}
