import type { PrepConfig } from '../config/run-config';
import type { DataFormat } from '../catalog';
import { fieldState, fieldsVerdict, notObject, templateFields, type Verdict } from './filter-policy';

/** A record mapped by the template, before filters: a prompt/completion pair, or a document for pre-training. */
export type Mapped = { kind: 'pair'; prompt: string; completion: string } | { kind: 'text'; text: string };

export type MapResult = Mapped | Verdict;

/**
 * The seed recipe (`dolly`): no input -> prompt = instruction; with an input -> prompt = "入力:" + instruction +
 * "\n知識:" + input; completion = output. `fields` takes prompt and completion from two fields as they are;
 * `text` takes a document for continued pre-training. A record whose fields do not fit gets the policy's verdict.
 */
export function applyTemplate(value: unknown, t: PrepConfig['template']): MapResult {
  const rec = value as Record<string, unknown>;
  const facts = { notObject: () => notObject(value), field: (name: string) => fieldState(fieldOf(rec, name)) };
  return fieldsVerdict(facts, { fields: templateFields(t) }) ?? mapRecord(rec, t);
}

/** The template applied to a record whose fields passed `fieldsVerdict`. */
export function mapRecord(rec: Record<string, unknown>, t: PrepConfig['template']): Mapped {
  if (t.kind === 'text') return { kind: 'text', text: textOf(rec, t.textField) };
  if (t.kind === 'fields')
    return { kind: 'pair', prompt: textOf(rec, t.promptField), completion: textOf(rec, t.completionField) };
  const instruction = textOf(rec, t.instructionField);
  const input = textOf(rec, t.inputField);
  const prompt = input.trim() === '' ? instruction : t.inputPrefix + instruction + t.knowledgeSeparator + input;
  return { kind: 'pair', prompt, completion: textOf(rec, t.outputField) };
}

/**
 * The prompt a question is sent to a trained model as: the template its training data was made with, so the model
 * sees the form it was trained on. With the `dolly` template a question with knowledge becomes
 * `<inputPrefix><question><knowledgeSeparator><knowledge>` (the seed recipe's `入力:...\n知識:...`) and a question
 * alone stays as it is; with `fields` or `text` the prompt is the question itself (knowledge, if given, on the next
 * line). `btp chat` and the evaluation of a prompt file send prompts this way.
 */
export function templatedPrompt(t: PrepConfig['template'], question: string, knowledge?: string): string {
  if (t.kind !== 'dolly') return knowledge ? `${question}\n${knowledge}` : question;
  const mapped = mapRecord({ [t.instructionField]: question, [t.inputField]: knowledge ?? '' }, t);
  return mapped.kind === 'pair' ? mapped.prompt : question;
}

/** A field of a parsed record: its own property only (a field named `constructor` is not Object's). */
export const fieldOf = (rec: Record<string, unknown>, name: string): unknown =>
  Object.hasOwn(rec, name) ? rec[name] : undefined;

/** A field's text: a string as it is, a number or boolean written out, nothing as ''. */
function textOf(rec: Record<string, unknown>, name: string): string {
  const v = fieldOf(rec, name);
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v);
}

/** The line Bedrock trains on, in the base model's format (docs/bedrock-api.md §7.1). */
export function bedrockRecord(m: Mapped, format: DataFormat): Record<string, unknown> {
  if (m.kind === 'text') return { input: m.text };
  switch (format) {
    case 'input':
      return { input: `${m.prompt}\n${m.completion}` };
    case 'bedrock-conversation-2024':
      return {
        schemaVersion: 'bedrock-conversation-2024',
        system: [],
        messages: [
          { role: 'user', content: [{ text: m.prompt }] },
          { role: 'assistant', content: [{ text: m.completion }] },
        ],
      };
    case 'claude-messages':
      return {
        messages: [
          { role: 'user', content: m.prompt },
          { role: 'assistant', content: m.completion },
        ],
      };
    default:
      return { prompt: m.prompt, completion: m.completion };
  }
}

/**
 * Splits a long document into pieces of at most `fits` at sentence boundaries (。！？!? and newlines), never inside a
 * sentence. A single sentence that does not fit is returned apart, so the caller can drop it with a reason.
 */
export function splitSentences(text: string, fits: (s: string) => boolean): { pieces: string[]; tooLong: string[] } {
  const sentences = text.match(/[^。！？!?\n]*(?:[。！？!?]+[」』）)]*|\n+|$)/g)?.filter((s) => s.length > 0) ?? [];
  const pieces: string[] = [];
  const tooLong: string[] = [];
  let current = '';
  for (const s of sentences) {
    if (fits(current + s)) {
      current += s;
      continue;
    }
    if (current.trim()) pieces.push(current.trim());
    current = '';
    if (fits(s)) current = s;
    else if (s.trim()) tooLong.push(s);
  }
  if (current.trim()) pieces.push(current.trim());
  return { pieces, tooLong };
}
