import { createHash } from 'node:crypto';
import type { CheckedPromptFile } from '../artifacts/evaluation';
import { MAX_PROMPT_FILE_LINES, PromptFileLine } from '../artifacts/prompt-file';
import type { RunConfig } from '../config/run-config';
import { InputError } from '../prep/errors';
import { templatedPrompt } from '../prep/template';

/** A prompt of the file with its line number (from 1). */
export type FilePrompt = PromptFileLine & { line: number };

export const PROMPT_FILE_HINT =
  'fix the prompt file where the error points (one JSON object a line: prompt, optional input and reference, ' +
  'category, optional maxTokenCount; docs/evaluation.md) and start the run again, or remove evaluation.promptFile';

/** Where the run's prompt file is: its own bucket, else the run's source bucket (the datasets bucket). */
export function promptFileRef(
  config: Pick<RunConfig, 'evaluation'>,
  sourceBucket: string,
): { bucket: string; key: string } | undefined {
  const f = config.evaluation.promptFile;
  return f ? { bucket: f.bucket ?? sourceBucket, key: f.key } : undefined;
}

/** SHA-256 (hex) of a prompt file's text, as UTF-8: what ingest records and evaluate compares. */
export const promptFileDigest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The run's prompt file checked (ingest fails the run with `problem`): it exists and every line matches
 * PromptFileLine; then where it is, its number of prompts and its SHA-256, which ingest records on the run so the
 * evaluate step asks exactly the file that was checked (every variant of an experiment the same prompts).
 * Undefined when the configuration names no prompt file.
 */
export async function checkPromptFile(
  config: Pick<RunConfig, 'evaluation'>,
  sourceBucket: string,
  store: { readText(bucket: string, key: string): Promise<string | undefined> },
): Promise<{ problem: InputError } | { checked: CheckedPromptFile } | undefined> {
  const ref = promptFileRef(config, sourceBucket);
  if (!ref) return undefined;
  const file = `s3://${ref.bucket}/${ref.key}`;
  const text = await store.readText(ref.bucket, ref.key);
  if (text === undefined) return { problem: new InputError(`${file} does not exist`, { file }, PROMPT_FILE_HINT) };
  try {
    const prompts = readPromptFile(text, file).length;
    return { checked: { ...ref, prompts, sha256: promptFileDigest(text) } };
  } catch (err) {
    if (err instanceof InputError) return { problem: err };
    throw err;
  }
}

/** What is wrong with the run's prompt file, if anything (checkPromptFile's problem). */
export async function promptFileProblem(
  config: Pick<RunConfig, 'evaluation'>,
  sourceBucket: string,
  store: { readText(bucket: string, key: string): Promise<string | undefined> },
): Promise<InputError | undefined> {
  const got = await checkPromptFile(config, sourceBucket, store);
  return got && 'problem' in got ? got.problem : undefined;
}

/**
 * The prompt file's lines, each checked against PromptFileLine. The first bad line throws an InputError that names
 * the file, the line and the field (ingest fails the run with it); so does a file without prompts or with more than
 * MAX_PROMPT_FILE_LINES. Blank lines are skipped; a byte order mark and CRLF line ends are allowed.
 */
export function readPromptFile(text: string, file: string): FilePrompt[] {
  const prompts: FilePrompt[] = [];
  for (const [i, raw] of text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .entries()) {
    const source = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (source.trim() === '') continue;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (err) {
      throw new InputError(
        `${file} line ${line} is not JSON: ${(err as Error).message}`,
        { file, line },
        PROMPT_FILE_HINT,
      );
    }
    const parsed = PromptFileLine.safeParse(value);
    if (!parsed.success) {
      // Every problem of the line, an unknown field first: a misspelt name explains the field it leaves missing.
      const issues = [...parsed.error.issues].sort(
        (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
      );
      const fieldOf = (issue: (typeof issues)[number]) =>
        issue.path.length
          ? issue.path.join('.')
          : issue.code === 'unrecognized_keys'
            ? issue.keys.join(', ')
            : undefined;
      const what = issues.map((i) => `${fieldOf(i) ? `field ${fieldOf(i)}: ` : ''}${i.message}`).join('; ');
      const field = fieldOf(issues[0]!);
      throw new InputError(
        `${file} line ${line}: ${what}`,
        { file, line, ...(field ? { field } : {}) },
        PROMPT_FILE_HINT,
      );
    }
    if (prompts.length === MAX_PROMPT_FILE_LINES)
      throw new InputError(
        `${file} has more than ${MAX_PROMPT_FILE_LINES} prompts (line ${line})`,
        { file, line },
        PROMPT_FILE_HINT,
      );
    prompts.push({ ...parsed.data, line });
  }
  if (!prompts.length) throw new InputError(`${file} has no prompts`, { file }, PROMPT_FILE_HINT);
  return prompts;
}

/** The text a prompt of the file is sent as: in the run's training template, as `btp chat` sends a question. */
export const filePromptText = (config: Pick<RunConfig, 'prep'>, p: PromptFileLine): string =>
  templatedPrompt(config.prep.template, p.prompt, p.input);
