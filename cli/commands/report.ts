import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { artifactsLocation, writeReport } from '../../shared/report/load';
import { cleanedOf } from '../cleaned';
import type { CliContext } from '../context';
import { CliError, type Io } from '../io';
import { childRuns, getRun } from './runs';

/**
 * `btp report <run>`: builds the run's report from the run and its artifacts, writes it beside them
 * (`report.html`, `report.md`), then prints it (`--print`, Markdown or `--format html`), saves the page locally
 * (`--out`) or opens it (`--open`).
 */
export async function report(
  ctx: CliContext,
  io: Io,
  runId: string,
  opts: { print?: boolean; format?: string; out?: string; open?: boolean; json?: boolean },
): Promise<number> {
  const run = await getRun(ctx, runId);
  const cleaned = cleanedOf(await ctx.runs.listEvents(runId));
  if (cleaned.items.has('artifacts')) {
    const { bucket, prefix } = artifactsLocation(run, ctx.names.artifactsBucket);
    const at = cleaned.targets.get(`s3://${bucket}/${prefix}`);
    throw new CliError(
      `the artifacts of run ${runId} (s3://${bucket}/${prefix}) were deleted by btp cleanup${at ? ` at ${at}` : ''}: there is nothing to build a report from, and none is written back there`,
      `the run's record is kept: \`btp status ${runId}\`, \`btp events ${runId}\``,
      1,
      { runId },
    );
  }
  const written = await writeReport(run, ctx.s3, {
    artifactsBucket: ctx.names.artifactsBucket,
    now: ctx.now,
    children: await childRuns(ctx, run),
  });
  const html = `s3://${written.bucket}/${written.htmlKey}`;
  const markdown = `s3://${written.bucket}/${written.markdownKey}`;
  if (opts.print) {
    io.out(opts.format === 'html' ? written.html : written.markdown);
    return 0;
  }
  // A local copy only when asked for: the report lives beside the artifacts, and a command run from any directory
  // must not leave files there. `--open` without `--out` opens a copy in the temporary directory.
  const file = opts.out || opts.open ? localFile(runId, opts.out) : undefined;
  if (file) writeFileSync(file, written.html);
  if (file && opts.open) openInBrowser(file, io);
  if (opts.json) io.out(JSON.stringify({ runId, status: run.status, html, markdown, file }, null, 2));
  else {
    io.out(`report of run ${runId} (${run.status}) written to ${html} and ${markdown}`);
    io.out(file ? `saved here: ${file}` : 'add --out <dir> to save the page here, or --open to open it');
  }
  return 0;
}

/**
 * `--out <dir>` (an existing directory, or a path ending in `/`) gets `btp-report-<run>.html`; any other path is the
 * file.
 */
function localFile(runId: string, out: string | undefined): string {
  const name = `btp-report-${runId}.html`;
  if (!out) return path.join(mkdtempSync(path.join(tmpdir(), 'btp-report-')), name);
  if (/[\\/]$/.test(out) || (existsSync(out) && statSync(out).isDirectory())) {
    mkdirSync(out, { recursive: true });
    return path.resolve(out, name);
  }
  return path.resolve(out);
}

function openInBrowser(file: string, io: Io) {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [file], { detached: true, stdio: 'ignore' });
    child.on('error', () => io.err(`could not run ${cmd}; open ${file} in a browser`));
    child.unref();
  } catch {
    io.err(`could not run ${cmd}; open ${file} in a browser`);
  }
}
