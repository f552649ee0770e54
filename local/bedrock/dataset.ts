import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { estimateTokens, tokenLimitViolation, type DataFormat, type TokenLimitRow } from '../../shared/catalog';

/** A training example kept for emulated inference: the prompt and the text the model was taught to answer. */
export interface Sample {
  prompt: string;
  completion: string;
}

export interface DatasetLimits {
  format: DataFormat;
  /** undefined: no limit is defined at this batch size, so no record can be checked against one. */
  tokenRow: TokenLimitRow | undefined;
  maxRecords: { value: number; emulatorDefault: boolean } | undefined;
  maxBytes: number | undefined;
}

export type DatasetResult =
  { ok: true; records: number; tokens: number; samples: Sample[] } | { ok: false; failureMessage: string };

const MAX_SAMPLES = 2000;

/**
 * Reads a JSONL dataset from S3 as Bedrock's asynchronous validation does, and returns the first problem in
 * Bedrock's words (docs/bedrock-api.md §6.4) where Bedrock's text is known, with the line number added so the message
 * says where.
 * Blank lines are skipped: whether Bedrock rejects them is not documented. The file is streamed line by line, so
 * a 1 GB dataset never sits in memory.
 * https://docs.aws.amazon.com/bedrock/latest/userguide/fine-tuning-troubleshooting.html
 */
export async function readDataset(
  s3: S3Client,
  bucket: string,
  key: string,
  role: 'Training' | 'Validation',
  limits: DatasetLimits,
): Promise<DatasetResult> {
  const fileName = key.split('/').pop() ?? key;
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const size = head.ContentLength ?? 0;
  if (limits.maxBytes !== undefined && size > limits.maxBytes) {
    return {
      ok: false,
      failureMessage: `${role} data file ${fileName} is ${size} bytes, which exceeds the limit of ${limits.maxBytes} bytes.`,
    };
  }
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const lines = createInterface({ input: object.Body as Readable, crlfDelay: Infinity });
  let lineNumber = 0;
  let records = 0;
  let tokens = 0;
  const samples: Sample[] = [];
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return {
          ok: false,
          failureMessage: `Unable to parse Amazon S3 file: ${fileName}. Data files must conform to JSONL format. Line ${lineNumber} is not valid JSON.`,
        };
      }
      const record = readRecord(limits.format, value);
      if (typeof record === 'string') {
        return {
          ok: false,
          failureMessage: `Input data at ${key} must follow '${FORMAT_TEXT[limits.format]}' format. Line ${lineNumber}: ${record}.`,
        };
      }
      records++;
      if (limits.maxRecords && records > limits.maxRecords.value) {
        const label = limits.maxRecords.emulatorDefault
          ? ' (emulator default; the real quota is account-specific and not published)'
          : '';
        return {
          ok: false,
          failureMessage: `${role} data at ${key} has more than ${limits.maxRecords.value} records, the maximum for this model${label}.`,
        };
      }
      const inTokens = estimateTokens(record.input);
      const outTokens = estimateTokens(record.output);
      tokens += inTokens + outTokens;
      if (limits.tokenRow) {
        const violation = tokenLimitViolation(limits.tokenRow, inTokens, outTokens);
        if (violation) return { ok: false, failureMessage: `${violation} (${fileName} line ${lineNumber}).` };
      }
      if (samples.length < MAX_SAMPLES) samples.push({ prompt: record.input, completion: record.output });
    }
  } finally {
    lines.close();
    (object.Body as Readable).destroy();
  }
  return { ok: true, records, tokens, samples };
}

const FORMAT_TEXT: Record<DataFormat, string> = {
  'prompt-completion': '{"prompt": "<input text>", "completion": "<output text>"}',
  input: '{"input": "<input text>"}',
  'bedrock-conversation-2024':
    '{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": ...}], "messages": [{"role": "user", "content": [{"text": ...}]}, {"role": "assistant", ...}]}',
  'claude-messages':
    '{"system": "<system message>", "messages": [{"role": "user", "content": "<query>"}, {"role": "assistant", "content": "<answer>"}]}',
};

/** The record's input and output text for token counting, or what is wrong with it. */
function readRecord(format: DataFormat, value: unknown): { input: string; output: string } | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the record is not a JSON object';
  const r = value as Record<string, unknown>;
  switch (format) {
    case 'prompt-completion':
      if (typeof r.prompt !== 'string') return 'missing string field "prompt"';
      if (typeof r.completion !== 'string') return 'missing string field "completion"';
      return { input: r.prompt, output: r.completion };
    case 'input':
      if (typeof r.input !== 'string') return 'missing string field "input"';
      return { input: r.input, output: '' };
    case 'bedrock-conversation-2024':
      return readConversation(
        r,
        (content) =>
          Array.isArray(content) &&
          content.every(
            (c) => typeof c === 'object' && c !== null && typeof (c as { text?: unknown }).text === 'string',
          )
            ? content.map((c) => (c as { text: string }).text).join('\n')
            : undefined,
        (system) =>
          Array.isArray(system) ? system.map((s) => String((s as { text?: unknown }).text ?? '')).join('\n') : '',
      );
    case 'claude-messages':
      return readConversation(
        r,
        (content) => (typeof content === 'string' ? content : undefined),
        (system) => (typeof system === 'string' ? system : ''),
      );
  }
}

/**
 * Nova and Claude rules (docs/bedrock-api.md §7.1): messages alternate user/assistant, starting with user and ending
 * with assistant.
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
 */
function readConversation(
  r: Record<string, unknown>,
  text: (content: unknown) => string | undefined,
  systemText: (system: unknown) => string,
): { input: string; output: string } | string {
  if (!Array.isArray(r.messages) || r.messages.length === 0) return 'missing non-empty array "messages"';
  let input = systemText(r.system);
  let output = '';
  for (const [i, m] of r.messages.entries()) {
    const msg = m as { role?: unknown; content?: unknown };
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (msg?.role !== expected)
      return `messages[${i}].role must be "${expected}" (roles alternate, starting with user)`;
    const t = text(msg.content);
    if (t === undefined) return `messages[${i}].content has the wrong shape`;
    if (expected === 'user') input += t;
    else output += t;
  }
  if (r.messages.length % 2 !== 0) return 'the last message must be from the assistant';
  return { input, output };
}
