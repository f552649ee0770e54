import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MAX_PROMPT_FILE_LINES } from '../../../shared/artifacts/prompt-file';
import { resolveRunConfig } from '../../../shared/config/run-config';
import { filePromptText, readPromptFile } from '../../../shared/evaluation/prompt-file';
import { InputError } from '../../../shared/prep/errors';

const FILE = 's3://datasets/inputs/prompts.jsonl';
const line = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ prompt: '日本で一番高い山は？', category: 'open_qa', ...over });

/** The InputError a bad file throws: its message and where it points. */
function failure(text: string): { message: string; location: InputError['location'] } {
  try {
    readPromptFile(text, FILE);
  } catch (err) {
    if (err instanceof InputError) return { message: err.message, location: err.location };
    throw err;
  }
  throw new Error('the file was read without an error');
}

describe('readPromptFile', () => {
  it('reads every line with its line number, skipping blank lines, a byte order mark and CRLF', () => {
    const text = `\uFEFF${line()}\r\n\n${line({ input: '知識', reference: '富士山', category: 'closed_qa', maxTokenCount: 64 })}\n`;
    expect(readPromptFile(text, FILE)).toEqual([
      { prompt: '日本で一番高い山は？', category: 'open_qa', line: 1 },
      {
        prompt: '日本で一番高い山は？',
        input: '知識',
        reference: '富士山',
        category: 'closed_qa',
        maxTokenCount: 64,
        line: 3,
      },
    ]);
  });

  it.each([
    ['a line that is not JSON', `${line()}\n{"prompt": "cut`, 2, undefined, /line 2 is not JSON/],
    ['a missing category', `${line()}\n${JSON.stringify({ prompt: 'p' })}`, 2, 'category', /expected string/],
    ['a blank prompt', line({ prompt: '  ' }), 1, 'prompt', /must not be blank/],
    ['a misspelt field', `${line()}\n${line()}\n${line({ instruction: 'x' })}`, 3, 'instruction', /Unrecognized key/],
    ['a token cap that is not a positive integer', line({ maxTokenCount: 1.5 }), 1, 'maxTokenCount', /expected int/],
    ['a reference that is not text', line({ reference: 5 }), 1, 'reference', /expected string/],
    ['a line that is not an object', '["日本で一番高い山は？"]', 1, undefined, /expected object/],
  ])('%s fails with the file, the line and the field', (_what, text, at, field, message) => {
    const { message: got, location } = failure(text);
    expect(location).toEqual({ file: FILE, line: at, ...(field ? { field } : {}) });
    expect(got).toContain(`${FILE} line ${at}${field ? `: field ${field}: ` : ''}`);
    expect(got).toMatch(message);
  });

  it('names every problem of a bad line, a misspelt field first', () => {
    const { message, location } = failure(JSON.stringify({ prompt: '質問', categry: 'open_qa' }));
    expect(location).toEqual({ file: FILE, line: 1, field: 'categry' });
    expect(message).toBe(
      `${FILE} line 1: field categry: Unrecognized key: "categry"; ` +
        'field category: Invalid input: expected string, received undefined',
    );
  });

  it('refuses a file without prompts, and one with more than it may ask', () => {
    expect(failure('\n\n')).toEqual({ message: `${FILE} has no prompts`, location: { file: FILE } });
    const many = Array.from({ length: MAX_PROMPT_FILE_LINES + 1 }, () => line()).join('\n');
    expect(failure(many).location).toEqual({ file: FILE, line: MAX_PROMPT_FILE_LINES + 1 });
  });

  it('examples/recipe-prompts.jsonl holds the recipe three kinds of task, in Japanese', () => {
    const file = path.resolve(__dirname, '..', '..', '..', 'examples', 'recipe-prompts.jsonl');
    const prompts = readPromptFile(readFileSync(file, 'utf8'), 'examples/recipe-prompts.jsonl');
    expect([...new Set(prompts.map((p) => p.category))]).toEqual(['open_qa', 'brainstorming', 'summarization']);
    expect(prompts.filter((p) => p.category === 'brainstorming').every((p) => /5つ挙げて/.test(p.prompt))).toBe(true);
    expect(prompts.filter((p) => p.category === 'summarization').every((p) => p.input)).toBe(true);
    // one has no reference, so the example shows the scores that need one left out
    expect(prompts.some((p) => p.reference === undefined)).toBe(true);
  });
});

describe('filePromptText', () => {
  it("sends a prompt with input in the run's training template, as btp chat does", () => {
    const dolly = resolveRunConfig({ prep: { template: { kind: 'dolly' } } });
    expect(filePromptText(dolly, { prompt: '要約して', input: '本文', category: 'summarization' })).toBe(
      '入力:要約して\n知識:本文',
    );
    expect(filePromptText(dolly, { prompt: '質問', category: 'open_qa' })).toBe('質問');
    const fields = resolveRunConfig({ prep: { template: { kind: 'fields' } } });
    expect(filePromptText(fields, { prompt: '質問', input: '本文', category: 'open_qa' })).toBe('質問\n本文');
  });
});
