import type { PrepConfig } from '../config/run-config';
import type { DataFormat } from '../catalog';

/** A record mapped by the template, before filters: a prompt/completion pair, or a document for pre-training. */
export type Mapped = { kind: 'pair'; prompt: string; completion: string } | { kind: 'text'; text: string };

export type MapResult = Mapped | { reason: 'rejected:missing_field' | 'rejected:wrong_type' | 'rejected:not_object'; detail: string; field?: string };

/**
 * The seed recipe (`dolly`): no input -> prompt = instruction; with an input -> prompt = "入力:" + instruction +
 * "\n知識:" + input; completion = output. `fields` takes prompt and completion from two fields as they are;
 * `text` takes a document for continued pre-training.
 */
export function applyTemplate(value: unknown, t: PrepConfig['template']): MapResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { reason: 'rejected:not_object', detail: `the record is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}, not an object` };
  }
  const rec = value as Record<string, unknown>;
  if (t.kind === 'text') {
    const text = field(rec, t.textField, true);
    return typeof text === 'string' ? { kind: 'text', text } : text;
  }
  if (t.kind === 'fields') {
    const prompt = field(rec, t.promptField, true);
    if (typeof prompt !== 'string') return prompt;
    const completion = field(rec, t.completionField, true);
    if (typeof completion !== 'string') return completion;
    return { kind: 'pair', prompt, completion };
  }
  const instruction = field(rec, t.instructionField, true);
  if (typeof instruction !== 'string') return instruction;
  const output = field(rec, t.outputField, true);
  if (typeof output !== 'string') return output;
  const input = field(rec, t.inputField, false);
  if (typeof input !== 'string') return input;
  const prompt = input.trim() === '' ? instruction : t.inputPrefix + instruction + t.knowledgeSeparator + input;
  return { kind: 'pair', prompt, completion: output };
}

function field(rec: Record<string, unknown>, name: string, required: boolean): string | Exclude<MapResult, Mapped> {
  const v = rec[name];
  if (v === undefined || v === null) {
    return required ? { reason: 'rejected:missing_field', detail: `field "${name}" is missing`, field: name } : '';
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return { reason: 'rejected:wrong_type', detail: `field "${name}" is ${Array.isArray(v) ? 'an array' : typeof v}, not text`, field: name };
}

/** The line Bedrock trains on, in the base model's format (api §7.1). */
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
      return { messages: [{ role: 'user', content: m.prompt }, { role: 'assistant', content: m.completion }] };
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
