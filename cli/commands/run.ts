import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { describeProgress, findRunBySource, listArtifacts, summarize } from '../../local/cli/follow';
import { resolveRunConfig } from '../../shared/config/run-config';
import { judgePreflight } from '../../shared/evaluation/judge';
import { readPromptFile } from '../../shared/evaluation/prompt-file';
import { InputError } from '../../shared/prep/errors';
import { modelChecks, preflightHint } from '../../shared/orchestration/preflight';
import { resolveLayers, runIdFor, SIDECAR_SUFFIX, stripQuotes } from '../../shared/prep/run-setup';
import type { Run } from '../../shared/runs/run';
import { isTerminal } from '../../shared/runs/status';
import type { CliContext } from '../context';
import { CliError, progressBar, type Io } from '../io';
import { childRuns, nextStep, runSummary } from './runs';
import { currentJob, currentPrepare, currentStage } from '../../shared/runs/record';

export interface RunOptions {
  config?: string;
  /** `inputs/<key>=<file>`: files uploaded before the dataset (a chained run's later stages read them). */
  input?: string[];
  key?: string;
  timeoutMinutes?: string;
  pollMs?: string;
  follow?: boolean;
  json?: boolean;
}

/** A line that redraws in place on a terminal, and prints once per change otherwise. */
function liveLine(io: Io) {
  let last = '';
  return {
    show(text: string) {
      if (text === last) return;
      io.err(io.interactive ? `\r\x1b[2K${text}` : text);
      last = text;
    },
    done() {
      if (io.interactive && last) io.err('\n');
      last = '';
    },
  };
}

/**
 * The models a configuration names, checked against the catalog's lifecycle on the stack's catalog date (today, or
 * the date a local stack plays) before anything is uploaded: a model Bedrock no longer offers is refused here, with
 * the date and the successor, as ingest would refuse the run a moment later; a Legacy one is a warning. The judge
 * model's cost, when one is configured, is estimated and shown here too.
 */
function checkModels(ctx: CliContext, io: Io, file: string, bytes: Buffer, promptLines: number): void {
  const config = resolveRunConfig(JSON.parse(bytes.toString('utf8')));
  const at = ctx.catalogDate ? new Date(ctx.catalogDate) : ctx.now();
  const { errors, warnings } = modelChecks(config, at);
  if (errors.length) throw new CliError(`${file}: ${errors.join('; ')}`, preflightHint(errors), 2);
  for (const w of warnings) io.err(`warning: ${file}: ${w}`);
  const judge = judgePreflight(config, promptLines);
  if (judge) io.err(`note: ${file}: ${judge}`);
}

function validateConfig(file: string): Buffer {
  if (!existsSync(file))
    throw new CliError(
      `run configuration ${file} not found`,
      'give the path of a JSON run configuration (see shared/config/run-config.ts)',
      2,
    );
  const bytes = readFileSync(file);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`, 'fix the file and run again', 2);
  }
  try {
    resolveRunConfig(json);
  } catch (err) {
    const issues = (err as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues ?? [];
    throw new CliError(
      `${file} is not a valid run configuration: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') || (err as Error).message}`,
      'fix the fields named above and run again',
      2,
    );
  }
  return bytes;
}

/** `inputs/<key>=<file>` of `--input`: a key under inputs/ (an upload under datasets/ would start a run of its own). */
function parseInput(spec: string): { key: string; file: string } {
  const at = spec.indexOf('=');
  const key = at > 0 ? spec.slice(0, at) : '';
  const file = spec.slice(at + 1);
  if (!key.startsWith('inputs/') || key.length <= 'inputs/'.length)
    throw new CliError(
      `--input ${spec}: give a key under inputs/ and a file, as inputs/<name>=<file>`,
      'name the key a stage of the run configuration reads (its `dataset.key`)',
      2,
    );
  if (!existsSync(file) || !statSync(file).isFile())
    throw new CliError(`--input ${spec}: file ${file} not found`, 'give the path of the file to upload', 2);
  return { key, file };
}

async function exists(ctx: CliContext, bucket: string, key: string): Promise<boolean> {
  try {
    await ctx.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/**
 * The prompt file the configuration names (`evaluation.promptFile`), when it is one of the files given to upload: read
 * through the schema ingest reads it with, so a bad line is refused here, with the file, line and field, before any
 * upload. (Ingest checks it again, wherever it comes from.) Its number of prompts, 0 when it is not uploaded here.
 */
function checkPromptFile(config: Buffer, inputs: Array<{ key: string; file: string }>): number {
  const named = resolveRunConfig(JSON.parse(config.toString('utf8'))).evaluation.promptFile;
  const input = named && !named.bucket ? inputs.find((i) => i.key === named.key) : undefined;
  if (!input) return 0;
  try {
    return readPromptFile(readFileSync(input.file, 'utf8'), input.file).length;
  } catch (err) {
    if (err instanceof InputError) throw new CliError(err.message, err.hint, 2);
    throw err;
  }
}

/** The run this upload would replay: one with ingest's id for the object and configuration, made before the upload. */
async function earlierRunOf(
  ctx: CliContext,
  source: Parameters<typeof runIdFor>[0],
  config: Buffer | undefined,
  uploadedAfter: string,
): Promise<Run | undefined> {
  if (!source.etag && !source.versionId) return undefined;
  let resolved: unknown;
  try {
    resolved = resolveLayers(source.key, config ? JSON.parse(config.toString('utf8')) : undefined, undefined);
  } catch {
    return undefined; // ingest records an invalid configuration under another id; the wait below finds that run
  }
  const earlier = await ctx.runs.get(runIdFor(source, resolved));
  return earlier && earlier.createdAt < uploadedAfter ? earlier : undefined;
}

/**
 * `btp run <file>`: uploads a dataset under `datasets/` (the upload starts the run, as the data team's uploads do),
 * then follows the run to its end with progress, and prints a summary. Exit 0 only when the run succeeded.
 */
export async function run(ctx: CliContext, io: Io, file: string, opts: RunOptions): Promise<number> {
  if (!existsSync(file) || !statSync(file).isFile())
    throw new CliError(
      `dataset file ${file} not found`,
      'give the path of a JSON Lines, JSON, CSV/TSV or Parquet file',
      2,
    );
  const config = opts.config ? validateConfig(opts.config) : undefined;
  const inputs = (opts.input ?? []).map(parseInput);
  const bucket = ctx.names.datasetsBucket;
  if (config) checkModels(ctx, io, opts.config!, config, checkPromptFile(config, inputs));
  for (const input of inputs) {
    // Before the dataset: its upload starts the run, whose later stages read these.
    const size = statSync(input.file).size;
    const upload = new Upload({
      client: ctx.s3,
      params: { Bucket: bucket, Key: input.key, Body: createReadStream(input.file) },
      partSize: 16 * 1024 * 1024,
    });
    await upload.done();
    io.err(`uploaded s3://${bucket}/${input.key} (${size} bytes)`);
  }
  const key = `datasets/${opts.key ?? path.basename(file)}`;
  const line = liveLine(io);
  const sidecarKey = `${key}${SIDECAR_SUFFIX}`;
  if (config) {
    // The sidecar goes first: ingest reads it when the dataset's notification arrives.
    await ctx.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: sidecarKey, Body: config, ContentType: 'application/json' }),
    );
    io.err(`uploaded run configuration s3://${bucket}/${sidecarKey}`);
  } else if (await exists(ctx, bucket, sidecarKey)) {
    // Left by an earlier `btp run --config` of the same file: ingest would apply it to this run too.
    await ctx.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: sidecarKey }));
    io.err(
      `removed the run configuration s3://${bucket}/${sidecarKey} an earlier run left: this run has none (pass --config <file> to give one)`,
    );
  }
  const size = statSync(file).size;
  const upload = new Upload({
    client: ctx.s3,
    params: { Bucket: bucket, Key: key, Body: createReadStream(file) },
    partSize: 16 * 1024 * 1024,
  });
  upload.on('httpUploadProgress', (p) => line.show(`upload   ${progressBar(p.loaded ?? 0, size, 'bytes')}`));
  // Runs made from an earlier upload of the same key are older than this (5 s of slack for clock skew).
  const startedAt = new Date(ctx.now().getTime() - 5000).toISOString();
  const uploaded = await upload.done();
  line.show(`upload   ${progressBar(size, size, 'bytes')}`);
  line.done();
  io.err(`uploaded s3://${bucket}/${key} (${size} bytes); waiting for the run to start...`);

  // The same object with the same configuration is the same run (ingest's run id): an upload of an unchanged file
  // starts nothing new, and says so now rather than after a minute of waiting.
  const replayed = await earlierRunOf(
    ctx,
    { bucket, key, etag: stripQuotes(uploaded.ETag), versionId: uploaded.VersionId },
    config,
    startedAt,
  );
  let found: Run | undefined;
  if (replayed) {
    io.err(
      `s3://${bucket}/${key} is unchanged since run ${replayed.runId} (same file and configuration, created ${replayed.createdAt}, now ${replayed.status}): ` +
        `the upload starts no new run; following run ${replayed.runId}. For a new run change the file or its configuration, or upload it under another --key.`,
    );
    found = replayed;
  }
  const startBy = Date.now() + 60_000;
  while (!found && Date.now() < startBy) {
    const candidate = await findRunBySource(ctx.db, ctx.names.table, bucket, key);
    if (candidate && candidate.createdAt >= startedAt) {
      found = candidate;
      break;
    }
    await ctx.sleep(Number(opts.pollMs ?? 500));
  }
  if (!found) {
    const older = await findRunBySource(ctx.db, ctx.names.table, bucket, key);
    throw new CliError(
      `no run started from s3://${bucket}/${key} within a minute${older ? ` (the newest run from it, ${older.runId}, is from ${older.createdAt}, before this upload)` : ''}`,
      `look in the ingest dead-letter queue for the reason (\`aws sqs receive-message --queue-url "$BTP_INGEST_DLQ_URL" --message-attribute-names All\`), fix it, then \`btp redrive ingest\` or upload again`,
      1,
      { stage: 'ingest' },
    );
  }
  io.err(`run ${found.runId} started`);
  if (opts.follow === false) {
    io.out(
      opts.json
        ? JSON.stringify({ runId: found.runId, status: found.status, source: { bucket, key } }, null, 2)
        : found.runId,
    );
    return 0;
  }
  const final = await follow(ctx, io, found.runId, {
    timeoutMs: Number(opts.timeoutMinutes ?? 180) * 60_000,
    pollMs: Number(opts.pollMs ?? 1000),
  });
  const artifacts = (await listArtifacts(ctx.s3, ctx.names.artifactsBucket, `runs/${final.runId}/`)).filter(
    (a) => !a.key.includes('/chunks/'),
  );
  if (opts.json)
    io.out(
      JSON.stringify(
        {
          runId: final.runId,
          status: final.status,
          run: runSummary(final),
          artifacts: artifacts.map((a) => `s3://${ctx.names.artifactsBucket}/${a.key}`),
        },
        null,
        2,
      ),
    );
  else {
    io.out(summarize(final, artifacts, ctx.names.artifactsBucket, await childRuns(ctx, final)));
    const next = nextStep(final);
    if (next) io.out(`next:        ${next}`);
  }
  if (!isTerminal(final.status)) {
    throw new CliError(
      `run ${final.runId} had not ended after ${opts.timeoutMinutes ?? 180} minutes (it is ${final.status})`,
      `it goes on without the CLI: \`btp status ${final.runId}\``,
      1,
      { runId: final.runId, stage: final.status },
    );
  }
  return final.status === 'succeeded' ? 0 : 1;
}

/**
 * Follows a run until it ends: a progress bar over chunks while the data is prepared, the job's state and elapsed
 * time while it trains, and one line per change of anything else.
 */
export async function follow(
  ctx: CliContext,
  io: Io,
  runId: string,
  opts: { timeoutMs: number; pollMs: number },
): Promise<Run> {
  const end = Date.now() + opts.timeoutMs;
  const line = liveLine(io);
  const began = Date.now();
  let run: Run | undefined;
  let lastStatus = '';
  let stageStarted = Date.now();
  while (Date.now() < end) {
    run = await ctx.runs.get(runId);
    if (run) {
      // An experiment's progress is its variants': one line whenever any of them changes status.
      const children = run.children ? await childRuns(ctx, run) : [];
      const progress = `${run.status} ${children.map((c) => c.status).join(',')}`;
      if (progress !== lastStatus) {
        line.done();
        io.err(`[${((Date.now() - began) / 1000).toFixed(0).padStart(5)}s] ${describeProgress(run, children)}`);
        if (run.status !== lastStatus.split(' ')[0]) stageStarted = Date.now();
        lastStatus = progress;
      } else if (run.status === 'preparing' && currentPrepare(run)?.plan?.chunks) {
        const done = (await ctx.runs.listChunks(runId, currentStage(run))).length;
        line.show(`prepare  ${progressBar(done, currentPrepare(run)!.plan!.chunks, 'chunks')}`);
      } else if (['submitting', 'queued', 'training', 'provisioning', 'evaluating'].includes(run.status)) {
        const mins = ((Date.now() - stageStarted) / 60_000).toFixed(1);
        const jobStatus = currentJob(run)?.jobStatus;
        line.show(`${run.status.padEnd(8)} ${jobStatus ? `job ${jobStatus}, ` : ''}${mins} min in this stage`);
      }
      if (isTerminal(run.status)) break;
    }
    await ctx.sleep(opts.pollMs);
  }
  line.done();
  if (!run)
    throw new CliError(`run ${runId} disappeared from table ${ctx.names.table}`, 'check the stage and table', 1, {
      runId,
    });
  return run;
}
