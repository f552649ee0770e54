import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readText } from '../aws/s3-io';
import { lastSubmittedJob } from '../runs/record';
import type { Run } from '../runs/run';
import {
  EvaluationSample,
  readJobMetrics,
  type JobMetrics,
  readJsonArtifact,
  readJsonLines,
  SplitManifest,
} from '../artifacts';
import type { RunReport } from './build-report';
import type { ComparedRun, ReportInputs } from './inputs';

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

export interface ReportOptions {
  artifactsBucket?: string;
  now?: () => Date;
  /** An experiment's variants' runs: the report compares their evaluations. */
  children?: Run[];
}

/** An evaluated run's sample lines, from its artifacts; none when it has no scores. */
async function comparedRun(run: Run, s3: S3Client, fallbackBucket?: string): Promise<ComparedRun | undefined> {
  const samplesKey = run.evaluation?.result?.samplesKey;
  if (!run.evaluation?.result?.scores || !samplesKey) return undefined;
  const text = await readText(s3, artifactsLocation(run, fallbackBucket).bucket, samplesKey);
  const samples = text === undefined ? [] : readJsonLines(EvaluationSample, text, samplesKey);
  return { run, label: run.variant?.name ?? run.runId, samples };
}

/** Gathers the report's inputs from the run and its artifacts, each read through its schema; each may be absent. */
export async function loadReportInputs(run: Run, s3: S3Client, opts: ReportOptions = {}): Promise<ReportInputs> {
  const { bucket, prefix } = artifactsLocation(run, opts.artifactsBucket);
  const read = (key: string) => readText(s3, bucket, key);
  // The run's data preparation is its first stage's (a chained run's later stages are summarized from its record).
  // (A variant's run trains on its experiment's prepared data: the split recorded where that manifest is.)
  const manifestKey = run.stages[0]?.prepare.split?.manifestKey ?? `${prefix}stages/0/manifest.json`;
  const samplesKey = run.evaluation?.result?.samplesKey;
  const job = lastSubmittedJob(run);
  const [manifest, metrics, samples] = await Promise.all([
    read(manifestKey),
    // The run's last job's files, where submit told Bedrock to write its stage's output.
    job?.jobArn ? readJobMetrics(read, `${prefix}stages/${job.stage}/output/`, job.jobArn) : ({} as JobMetrics),
    samplesKey ? read(samplesKey) : undefined,
  ]);
  const evaluationSamples =
    samples === undefined || !samplesKey ? undefined : readJsonLines(EvaluationSample, samples, samplesKey);
  // The run's own evaluation, else its variants' (an experiment run is not evaluated itself).
  const compared = run.evaluation?.result?.scores
    ? [{ run, label: run.variant?.name ?? run.runId, samples: evaluationSamples ?? [] }]
    : (await Promise.all((opts.children ?? []).map((c) => comparedRun(c, s3, opts.artifactsBucket)))).filter(
        (c): c is ComparedRun => c !== undefined,
      );
  return {
    run,
    manifest: manifest === undefined ? undefined : readJsonArtifact(SplitManifest, manifest, manifestKey),
    training: metrics.training?.points,
    validation: metrics.validation?.points,
    evaluationSamples,
    comparison: compared.length ? compared : undefined,
    generatedAt: (opts.now ?? (() => new Date()))().toISOString(),
  };
}

/** Builds the report and writes it beside the run's artifacts: `report.html` and `report.md`. */
export async function writeReport(
  run: Run,
  s3: S3Client,
  opts: ReportOptions = {},
): Promise<RunReport & { bucket: string; htmlKey: string; markdownKey: string }> {
  // The builder and its charts (ECharts and zrender: most of the report function's code) load when a report is
  // written, not when the function starts, which then runs only what reading its message and the run needs.
  const { buildReport } = await import('./build-report');
  const report = buildReport(await loadReportInputs(run, s3, opts));
  const keys = reportKeys(run, opts.artifactsBucket);
  await s3.send(
    new PutObjectCommand({
      Bucket: keys.bucket,
      Key: keys.html,
      Body: report.html,
      ContentType: 'text/html; charset=utf-8',
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: keys.bucket,
      Key: keys.markdown,
      Body: report.markdown,
      ContentType: 'text/markdown; charset=utf-8',
    }),
  );
  return { ...report, bucket: keys.bucket, htmlKey: keys.html, markdownKey: keys.markdown };
}
