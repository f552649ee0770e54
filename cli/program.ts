import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { buildContext, STEPS, type CliContext, type GlobalOptions } from './context';
import { CliError, formatError, processIo, type Io } from './io';
import { cancel, cleanup, redrive, resume } from './commands/control';
import { chat, invoke } from './commands/chat';
import { compare } from './commands/compare';
import { report } from './commands/report';
import { run } from './commands/run';
import { events, list, status } from './commands/runs';

export interface CliDeps {
  io?: Io;
  /** Builds the command's context from the global options; tests pass one wired to the local stack. */
  context?: (opts: GlobalOptions) => CliContext;
}

/**
 * The `btp` command line: the same commands against the local stack (the env file `npm run stack` writes, or
 * `--endpoint-env`) and a deployed stage (`--stage`, `--region`, `--profile`). Returns the exit code.
 */
export async function runCli(argv: string[], deps: CliDeps = {}): Promise<number> {
  const io = deps.io ?? processIo();
  const makeContext = deps.context ?? ((o: GlobalOptions) => buildContext(o));
  let ctx: CliContext | undefined;
  const context = () => (ctx ??= makeContext(program.opts<GlobalOptions>()));
  let code = 0;
  const action =
    <A extends unknown[]>(fn: (ctx: CliContext, ...args: A) => Promise<number>) =>
    async (...args: A) => {
      code = await fn(context(), ...args);
    };

  const program = new Command('btp')
    .description(
      'Operate bedrock-tuning-pipeline runs: start and follow them, inspect, cancel, resume, clean up, redrive, report.',
    )
    .option(
      '--endpoint-env <file>',
      'env file with endpoints and names (default: .local/stack.env when present and no --stage)',
    )
    .option('--stage <stage>', 'deployed stage: resources named bedrock-tuning-pipeline-<stage>-* (env: BTP_STAGE)')
    .option('--region <region>', 'AWS region (env: AWS_REGION)')
    .option('--profile <profile>', 'AWS profile (env: AWS_PROFILE)')
    .option('--account <id>', 'AWS account id, for bucket names of a stage (env: BTP_ACCOUNT_ID)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError();

  program
    .command('run <file>')
    .description('upload a dataset and follow its run to the end, with a summary (exit 0 only if it succeeded)')
    .option('--config <file>', "run configuration (JSON), uploaded as the dataset's sidecar <key>.run.json")
    .option(
      '--input <key=file...>',
      "files to upload first, each as inputs/<name>=<file> (the datasets a chained run's later stages name)",
    )
    .option('--key <name>', 'object name under datasets/ (default: the file name)')
    .option('--timeout-minutes <n>', 'stop following after this long (the run goes on)', '180')
    .option('--poll-ms <ms>', 'how often to read the run', '1000')
    .option('--no-follow', 'print the run id once it has started, and return')
    .option('--json', 'print the final run as JSON')
    .action(action((c, file: string, o: Parameters<typeof run>[3]) => run(c, io, file, o)));

  program
    .command('list')
    .description("runs, newest first (from the table's byStatus index)")
    .option('--status <statuses>', 'comma-separated statuses, e.g. failed,training')
    .option('--since <when>', 'updated since a duration ago (30m, 24h, 7d) or a date')
    .option('--limit <n>', 'at most this many runs', '50')
    .option('--json', 'JSON: { runs: [...] }')
    .action(action((c, o: Parameters<typeof list>[2]) => list(c, io, o)));

  program
    .command('status <run>')
    .description('one run: status, counts, job, failure and what to do next')
    .option('--json', 'JSON: { run, chunksDone, next }')
    .action(action((c, id: string, o: { json?: boolean }) => status(c, io, id, o)));

  program
    .command('events <run>')
    .description("the run's history of events, oldest first")
    .option('--json', 'JSON: { runId, events: [...] }')
    .action(action((c, id: string, o: { json?: boolean }) => events(c, io, id, o)));

  program
    .command('cancel <run>')
    .description('cancel a run that has not ended (posts run.cancel to the monitor queue)')
    .option('--reason <text>', 'recorded on the run')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'JSON: { runId, posted, correlationId, queue, status }')
    .action(action((c, id: string, o: Parameters<typeof cancel>[3]) => cancel(c, io, id, o)));

  program
    .command('resume <run>')
    .description('resume a failed run from a stage (posts run.resume to the submit queue)')
    .requiredOption('--from <stage>', 'train | provision')
    .option('--hp <key=value...>', 'hyperparameters to change for the new attempt')
    .option('--json', 'JSON: { runId, posted, correlationId, queue, fromStage, hyperParameters }')
    .action(action((c, id: string, o: Parameters<typeof resume>[3]) => resume(c, io, id, o)));

  program
    .command('cleanup <run>')
    .description('delete what an ended run left: throughput, custom model, artifacts (each confirmed, or --yes)')
    .option('--throughput', 'only the Provisioned Throughput')
    .option('--model', 'only the custom model')
    .option('--artifacts', 'only the artifacts in S3')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'JSON: { runId, results: [{ item, target, outcome, detail }] }')
    .action(action((c, id: string, o: Parameters<typeof cleanup>[3]) => cleanup(c, io, id, o)));

  program
    .command('redrive <queue>')
    .description(
      `move dead-lettered messages back to their queue (${STEPS.join(', ')}), listing each with its btp-error`,
    )
    .option(
      '--max <n>',
      'move at most this many (default: as many as the dead-letter queue held when the redrive began)',
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'JSON: { queue, from, to, max, moved, left, returned, invalid, byReason, messages }')
    .action(action((c, q: string, o: Parameters<typeof redrive>[3]) => redrive(c, io, q, o)));

  program
    .command('report <run>')
    .description(
      "build the run report (written to the run's artifacts as report.html and report.md), then save, open or print it",
    )
    .option('--print', 'print it')
    .option('--format <md|html>', 'with --print: md (default) or html', 'md')
    .option(
      '--out <dir|file>',
      'save the page here too: a directory (gets btp-report-<run>.html) or a file (default: not saved)',
    )
    .option('--open', 'open the page in a browser (saved under --out, else in the temporary directory)')
    .option('--json', 'JSON: { runId, status, html, markdown, file }')
    .action(action((c, id: string, o: Parameters<typeof report>[3]) => report(c, io, id, o)));

  program
    .command('compare <runs...>')
    .description("evaluation scores of runs side by side, by category, with the gate's decisions")
    .option('--json', 'JSON: { rows: [{ runId, category, scores, gate }], unscored }')
    .action(action((c, ids: string[], o: { json?: boolean }) => compare(c, io, ids, o)));

  program
    .command('chat <run> [prompt]')
    .description(
      "send a prompt to a run's served model (its id, or its model's ARN), in the template it was trained with; " +
        'prompt from the argument, standard input, or typed line by line',
    )
    .option('--input <text>', 'knowledge for a closed-QA prompt (sent as 入力:<prompt>\n知識:<text> with dolly)')
    .option('--max-tokens <n>', "the answer's token cap (default: the run's evaluation.maxTokenCount)")
    .option('--json', 'JSON per answer: { runId, modelId, maxTokens, prompt, answer }')
    .action(
      action((c, id: string, prompt: string | undefined, o: Parameters<typeof chat>[4]) => chat(c, io, id, prompt, o)),
    );

  program
    .command('invoke <run> <prompt>')
    .description(
      "one prompt to a run's served model, for scripts: prints JSON { runId, modelId, maxTokens, prompt, answer }",
    )
    .option('--input <text>', 'knowledge for a closed-QA prompt')
    .option('--max-tokens <n>', "the answer's token cap (default: the run's evaluation.maxTokenCount)")
    .option('--json', 'JSON (the default)')
    .option('--no-json', 'print the answer alone')
    .action(action((c, id: string, prompt: string, o: Parameters<typeof invoke>[4]) => invoke(c, io, id, prompt, o)));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      io.err(formatError(err));
      return err.exitCode;
    }
    const e = err as Error;
    const refused = connectionRefused(e);
    if (refused && ctx?.envFile) {
      io.err(
        formatError(
          new CliError(
            `nothing answers at ${refused}, the endpoint ${path.relative(process.cwd(), ctx.envFile) || ctx.envFile} names: the local stack that wrote it is not running`,
            'start it with `npm run stack` (in another terminal; it rewrites the file), or pass --stage <stage> for a deployed one',
          ),
        ),
      );
      return 1;
    }
    io.err(
      `error: ${e.name}: ${e.message}\n  next: check the endpoint or stage and your credentials (AWS_PROFILE, --profile); run with BTP_DEBUG=1 for the stack trace`,
    );
    if (process.env.BTP_DEBUG) io.err(e.stack ?? '');
    return 1;
  } finally {
    ctx?.close();
  }
}

/** `host:port` when the error (or one it wraps: a cause, an AggregateError's errors) is a refused connection. */
export function connectionRefused(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as {
    code?: unknown;
    address?: unknown;
    port?: unknown;
    cause?: unknown;
    errors?: unknown;
    message?: unknown;
  };
  if (e.code === 'ECONNREFUSED')
    return typeof e.address === 'string' ? `${e.address}:${String(e.port)}` : 'the endpoint';
  // The SDK's retry layer may keep only the text of an error from another realm (`AWS SDK error wrapper for ...`).
  const text = typeof e.message === 'string' ? /\bECONNREFUSED (\S+)/.exec(e.message) : null;
  if (text) return text[1];
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = connectionRefused(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}
