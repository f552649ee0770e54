import { templatedPrompt } from '../../shared/prep/template';
import type { Run } from '../../shared/runs/run';
import { isTerminal } from '../../shared/runs/status';
import type { ModelFamily } from '../../shared/catalog/models';
import { servedModelOf } from '../../shared/orchestration/serving';
import { RUN_STATUSES } from '../../shared/runs/status';
import { cleanedOf, withoutCleaned } from '../cleaned';
import type { CliContext } from '../context';
import { CliError, type Io } from '../io';
import { getRun } from './runs';

/**
 * The prompt a question is sent as: the run's template, the one its training data was made with (templatedPrompt),
 * so a dolly run's question with knowledge becomes `入力:<question>\n知識:<knowledge>`.
 */
export const chatPrompt = (run: Pick<Run, 'config'>, question: string, knowledge?: string): string =>
  templatedPrompt(run.config.prep.template, question, knowledge);

/**
 * The model id a run is served by, and its family (which InvokeModel bodies it takes), or why there is none and how to
 * get one: its custom model deployment, or its Provisioned Throughput (serving.ts servedModelOf). This is the one
 * place that decides which ARN to invoke.
 */
export function servedModel(
  run: Run,
  cleanedRun: Run,
): { modelId: string; family: ModelFamily } | { refusal: CliError } {
  const refuse = (message: string, next: string) => ({ refusal: new CliError(message, next, 1, { runId: run.runId }) });
  const served = servedModelOf(run);
  const what = served?.via === 'deployment' ? 'deployment' : 'throughput';
  const again = what === 'deployment' ? 'deploy its model' : 'buy throughput for its model';
  const buy = run.modelArn
    ? `${again} with a model.provision message naming ${run.modelArn} (docs/operations.md)`
    : 'start a run that trains a model (`btp run <file>`)';
  if (run.status === 'provisioning' || run.status === 'evaluating')
    return refuse(
      `run ${run.runId} is ${run.status}: its ${what} is not in service yet`,
      `wait for it (\`btp status ${run.runId}\`)`,
    );
  if (!isTerminal(run.status) && !served)
    return refuse(`run ${run.runId} is ${run.status}: it has no model to chat with yet`, `wait for it to succeed`);
  if (served && !servedModelOf(cleanedRun))
    return refuse(`run ${run.runId} has no ${what}: it was deleted by \`btp cleanup\``, buy);
  if (served && run.provision?.deletedAt) {
    const why =
      run.gate?.throughputDeletedAt || run.gate?.deploymentDeletedAt
        ? `the gate deleted it after the evaluation (${run.gate.reasons.join('; ')})`
        : what === 'deployment'
          ? 'it failed'
          : 'its time to live ran out, or the run was cancelled';
    return refuse(`run ${run.runId} has no live ${what}: ${why} at ${run.provision.deletedAt}`, buy);
  }
  if (!served) return refuse(`run ${run.runId} never had a throughput or deployment`, buy);
  return { modelId: served.arn, family: served.family };
}

/** A run given by id, or by the ARN of its custom model or provisioned model (searched among ended runs). */
async function findRun(ctx: CliContext, target: string): Promise<Run> {
  if (!target.startsWith('arn:')) return getRun(ctx, target);
  for (const status of RUN_STATUSES) {
    for (const run of await ctx.runs.listByStatus(status)) {
      if (run.modelArn === target || run.provisionedModelArn === target || run.deploymentArn === target) return run;
    }
  }
  throw new CliError(
    `no run in table ${ctx.names.table} has the model ${target}`,
    'give the run id (`btp list` shows them)',
    1,
  );
}

export const EMULATOR_NOTE =
  'local stack: the Bedrock emulator answered, no model ran (the answer is a training completion of the custom model)';

interface ChatOptions {
  input?: string;
  maxTokens?: string;
  json?: boolean;
}

/** The run, the model id to invoke, the token cap and the prompt builder, or the refusal. */
async function session(ctx: CliContext, io: Io, target: string, opts: ChatOptions) {
  const run = await findRun(ctx, target);
  const served = servedModel(run, withoutCleaned(run, cleanedOf(await ctx.runs.listEvents(run.runId))));
  if ('refusal' in served) throw served.refusal;
  const maxTokens = opts.maxTokens === undefined ? run.config.evaluation.maxTokenCount : Number(opts.maxTokens);
  if (!Number.isInteger(maxTokens) || maxTokens <= 0)
    throw new CliError(`--max-tokens ${opts.maxTokens} is not a positive integer`, 'e.g. --max-tokens 256', 2);
  // When the local Bedrock emulator answers, no model ran: its response says so, and so does every answer printed.
  let told = false;
  const ask = async (question: string) => {
    const prompt = chatPrompt(run, question, opts.input);
    const got = await ctx.bedrock.invokeText(served.modelId, prompt, maxTokens, served.family);
    const note = got.emulated ? EMULATOR_NOTE : undefined;
    if (note && !told) io.err(`note: ${note}`);
    told ||= note !== undefined;
    return {
      runId: run.runId,
      modelId: served.modelId,
      maxTokens,
      prompt,
      answer: got.text,
      ...(note ? { note } : {}),
    };
  };
  return { run, ask };
}

/**
 * `btp chat <run|model> [prompt]`: sends a prompt to the run's served model, built with the run's training template,
 * and prints the answer. The prompt is the argument, else standard input when it is not a terminal, else each line
 * typed (an interactive loop; an empty line or Ctrl-D ends it).
 */
export async function chat(
  ctx: CliContext,
  io: Io,
  target: string,
  promptArg: string | undefined,
  opts: ChatOptions,
): Promise<number> {
  const { run, ask } = await session(ctx, io, target, opts);
  const one = promptArg ?? (io.input && !io.input.isTTY ? (await io.input.readAll()).trim() : undefined);
  if (one !== undefined) {
    if (one === '') throw new CliError('the prompt is empty', 'give it as an argument or on standard input', 2);
    const r = await ask(one);
    io.out(opts.json ? JSON.stringify(r, null, 2) : r.answer);
    return 0;
  }
  if (!io.input) throw new CliError('no prompt given', 'give it as an argument: btp chat <run> "質問"', 2);
  io.err(`chatting with run ${run.runId}'s model (empty line or Ctrl-D to stop)`);
  for await (const line of io.input.lines('> ')) {
    if (line.trim() === '') break;
    const r = await ask(line.trim());
    io.out(opts.json ? JSON.stringify(r) : r.answer);
  }
  return 0;
}

/** `btp invoke <run|model> <prompt> --json`: one prompt, the answer and what was sent, for scripts. */
export async function invoke(
  ctx: CliContext,
  io: Io,
  target: string,
  prompt: string,
  opts: ChatOptions,
): Promise<number> {
  const { ask } = await session(ctx, io, target, opts);
  const r = await ask(prompt);
  io.out(opts.json === false ? r.answer : JSON.stringify(r, null, 2));
  return 0;
}
