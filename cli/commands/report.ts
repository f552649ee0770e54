import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeReport } from '../../shared/report/load';
import type { CliContext } from '../context';
import type { Io } from '../io';
import { getRun } from './runs';

/**
 * `btp report <run>`: builds the run's report from the run and its artifacts, writes it beside them
 * (`report.html`, `report.md`), then prints it (`--print`, Markdown or `--format html`) or saves the page locally
 * and opens it (`--open`).
 */
export async function report(ctx: CliContext, io: Io, runId: string, opts: { print?: boolean; format?: string; out?: string; open?: boolean; json?: boolean }): Promise<number> {
  const run = await getRun(ctx, runId);
  const written = await writeReport(run, ctx.s3, { artifactsBucket: ctx.names.artifactsBucket, now: ctx.now });
  const html = `s3://${written.bucket}/${written.htmlKey}`;
  const markdown = `s3://${written.bucket}/${written.markdownKey}`;
  if (opts.print) {
    io.out(opts.format === 'html' ? written.html : written.markdown);
    return 0;
  }
  const file = path.resolve(opts.out ?? `btp-report-${runId}.html`);
  writeFileSync(file, written.html);
  if (opts.open) openInBrowser(file, io);
  if (opts.json) io.out(JSON.stringify({ runId, status: run.status, html, markdown, file }, null, 2));
  else io.out(`report of run ${runId} (${run.status}) written to ${html} and ${markdown}\nsaved here: ${file}${opts.open ? '' : ' (add --open to open it)'}`);
  return 0;
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
