import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { resolveRunConfig } from '../../../shared/config/run-config';
import type { ChunkPlan } from '../../../shared/messages/pipeline';
import { countsBalance } from '../../../shared/prep/counts';
import { readTextChunk } from '../../../shared/prep/read';
import { ChunkProcessor } from '../../../shared/prep/records';
import { resolveRecordRules } from '../../../shared/prep/rules';
import { generatedLines } from '../../helpers/prep/generated';
import {
  BAD_JSON_LINES,
  describeWithData,
  DOLLY,
  dollyRecord as rec,
  toJsonArray,
  toJsonl,
  withBom,
} from '../../helpers/prep/fixtures';

/**
 * The transform reads a JSON record two ways: on its bytes (json-bytes-path.ts) and, when that path does not take it,
 * parsed. Both ask the one filter policy. Given the same input, the chunk's output must be the same whichever way each
 * record went: kept lines (metadata and Bedrock record), reject lines and counts, byte for byte.
 */

type Format = 'jsonl' | 'json';

/** One chunk read by the real reader, with the byte path offered every record (`bytes`) or none. */
async function transform(
  body: Buffer,
  format: Format,
  config: Record<string, unknown>,
  bytes: boolean,
  scope?: { run: string; chunk: number },
) {
  const kept: string[] = [];
  const rejects: string[] = [];
  const p = new ChunkProcessor(
    resolveRecordRules(resolveRunConfig(config)),
    {
      kept: (meta, record) => kept.push(`${meta}\t${record.toString('utf8')}`),
      reject: (line) => rejects.push(line),
      rejectBytes: (line) => rejects.push(line.toString('utf8')),
      // As the chunk's writer joins them (LineWriter.writeHeadInt): the byte path's duplicates are written so, the
      // parsed path's as strings, and both must read the same.
      ...(bytes
        ? {
            rejectHead: (head: Buffer, n: number, last: number) =>
              rejects.push(`${head.toString('utf8')}${n}${String.fromCharCode(last)}`),
          }
        : {}),
    },
    scope,
  );
  let taken = 0;
  const onJsonBytes = (b: Buffer, pos: number, line: number | undefined, row: number | undefined) => {
    const took = p.handleJsonBytes(b, pos, line, row);
    if (took) taken++;
    return took;
  };
  const plan: ChunkPlan = {
    index: 0,
    total: 1,
    format,
    compression: 'none',
    start: 0,
    end: body.length,
    firstLine: format === 'json' ? 0 : 1,
  };
  await readTextChunk(Readable.from([body]), plan, { file: 's3://b/k', ...(bytes ? { onJsonBytes } : {}) }, (r) =>
    p.handle(r),
  );
  return { kept, rejects, counts: p.counts, taken };
}

/** Both paths over `body`; returns how many records the byte path took, so a case can show it was exercised. */
async function expectSameOutputs(body: Buffer | string, format: Format, config: Record<string, unknown> = {}) {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const parsed = await transform(b, format, config, false);
  const both = await transform(b, format, config, true);
  expect(parsed.taken).toBe(0);
  expect(both.kept).toEqual(parsed.kept);
  expect(both.rejects).toEqual(parsed.rejects);
  expect(both.counts).toEqual(parsed.counts);
  expect(countsBalance(both.counts)).toBe(true);
  return { taken: both.taken, counts: both.counts };
}

/** The malformed records of malformed.test.ts, and more of the kinds either path may meet. */
const malformedLines = [
  ...BAD_JSON_LINES,
  '{"instruction": "same text as line 3,\\"line\\":4", "nope": ',
  JSON.stringify({ instruction: 'only an instruction' }),
  JSON.stringify({ output: 'only an output', category: 'c' }),
  JSON.stringify({}),
  'null',
  '"a string"',
  '42',
  JSON.stringify(rec(9, { instruction: null })),
  JSON.stringify(rec(10, { instruction: 10 })),
  JSON.stringify(rec(11, { output: true })),
  JSON.stringify(rec(12, { output: ['a'] })),
  JSON.stringify(rec(13, { input: 7 })),
  JSON.stringify(rec(14, { input: null })),
  JSON.stringify(rec(15, { category: 3 })),
  JSON.stringify(rec(16, { category: null })),
  JSON.stringify(rec(17, { category: { a: 1 } })),
  JSON.stringify(rec(18, { instruction: '　\t' })), // U+3000 and a tab: blank
  JSON.stringify(rec(19, { instruction: '　', input: '文脈' })), // a blank instruction with an input: not empty
  JSON.stringify(rec(20, { instruction: '', input: '　 ' })),
  JSON.stringify(rec(21, { output: '' })),
  JSON.stringify(rec(29, { instruction: ' ', output: '　' })), // both blank: the prompt is named
  '{"instruction":"\\u3000","input":"","output":"x"}', // a blank escaped
  '{"instruction":"\\ud842\\udfb7","input":"","output":"surrogate escapes"}',
  '{"instruction":"\\ud800","input":"","output":"a lone surrogate"}',
  '{"instruction":"bad \\x escape","input":"","output":"y"}',
  '{"instruction":"raw\ttab","input":"","output":"y"}',
  '{"instruction":"q","input":"","output":"dup key","output":"last wins"}',
  // A key given twice: JSON.parse refuses the record for the first value's bad escape, though the last one counts.
  '{"instruction":"bad \\x first","instruction":"q33","input":"","output":"a33"}',
  '{"instruction":"q34","input":"","output":"bad \\x first","output":"a34"}',
  '{"__proto__":"p","instruction":"q22","input":"","output":"a22"}',
  '{"constructor":"c","instruction":"q23","output":"a23"}',
  '{"instruction":"q24","output":"a24"} trailing',
  '  {"instruction" : "q25" , "input":"", "output" : "a25" }  ',
  '{"instruction":"q26","input":"","output":"a26","n":1}',
  '{"instruction":"q27","input":"","output":"a27","x":{"y":[1,"]"]}}',
  '{"instruction":"esc \\"quoted\\" \\\\ \\/ \\n\\r\\t\\b\\f \\u00e9","input":"","output":"a28"}',
  // Escapes JSON.stringify writes (kept lines made of the bytes) and ones it does not (rendered from the text).
  '{"instruction":"ctl \\u0001 \\u001f","input":"in \\"q\\" \\\\ \\n","output":"a29\\t"}',
  '{"instruction":"ctl \\u001F upper","input":"","output":"a30"}',
  '{"instruction":"short \\u0008 \\u000a","input":"x","output":"a31"}',
  '{"instruction":"q32","input":"\\u0041","output":"\\/"}',
  '{"instruction":"Ｑ１  question","input":"","output":"answer"}',
  '{"instruction":"Q1 question","input":"","output":" answer "}',
  '{"instruction":"Q1 question","input":" ","output":"answer"}',
];

/** Dolly-like records from a fixed seed: Japanese, astral characters, escapes, inputs or none, repeats, long ones. */
function dollyLike(n: number, seed = 1): object[] {
  let s = seed;
  const rand = (k: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % k);
  const pieces = [
    'あいうえお',
    '漢字',
    '𠮷野家',
    '😀',
    'ｶﾀｶﾅ',
    'ABC',
    ' ',
    '　',
    '\n',
    '"',
    '\\',
    'é',
    '\t',
    '。',
    'Ｑ１',
  ];
  const text = (len: number) => Array.from({ length: len }, () => pieces[rand(pieces.length)]).join('');
  const out: object[] = [];
  for (let i = 0; i < n; i++) {
    const r: Record<string, string> = {
      index: String(i),
      instruction: text(1 + rand(30)),
      input: rand(3) === 0 ? text(1 + rand(60)) : rand(5) === 0 ? ' ' : '',
      output: text(1 + rand(40)),
      category: ['open_qa', 'closed_qa', 'カテゴリ', 'say "hi"', 'brainstorming'][rand(5)]!,
    };
    if (rand(10) === 0) r.output = text(700 + rand(400)); // some over the limit (about 2.5 code points a piece)
    if (rand(7) === 0 && out.length) out.push(out[rand(out.length)]!); // exact repeats
    out.push(
      rand(4) === 0
        ? { output: r.output, category: r.category, instruction: r.instruction, input: r.input, index: r.index }
        : r,
    );
  }
  return out;
}

/**
 * Records of exactly `chars` code points (prompt plus completion), with astral characters that are two UTF-16 units.
 */
function ofLength(chars: number, i: number, withInput: boolean) {
  const prefixChars = [...'入力:'].length + [...'\n知識:'].length;
  const output = `${i}𠮷`.padEnd(10, 'x');
  const rest = chars - [...output].length - (withInput ? prefixChars + 5 : 0);
  const instruction = '😀'.repeat(Math.floor(rest / 2)) + 'あ'.repeat(rest - Math.floor(rest / 2));
  return { instruction, input: withInput ? 'ちしき𠮷!' : '', output, category: 'len' };
}

describe('the byte path and the parsed path give the same outputs', () => {
  it('over the malformed records, as JSON Lines and as a JSON array', async () => {
    const { taken, counts } = await expectSameOutputs(malformedLines.join('\n') + '\n', 'jsonl');
    expect(taken).toBeGreaterThan(15); // the byte path decided many of them itself
    expect(Object.keys(counts.byReason).sort()).toEqual(
      [
        'filtered:duplicate',
        'filtered:empty',
        'rejected:missing_field',
        'rejected:not_json',
        'rejected:not_object',
        'rejected:wrong_type',
      ].sort(),
    );
    const elements = malformedLines.filter((l) => !/broken|nope|trailing|\\x|\t/.test(l));
    await expectSameOutputs(`[\n${elements.join(',\n')}\n]`, 'json');
  });

  it('over dolly-like records with astral characters, escapes, repeats and long texts, LF or CRLF, with a BOM or not', async () => {
    const rows = dollyLike(3000);
    for (const eol of ['\n', '\r\n']) {
      const { taken, counts } = await expectSameOutputs(toJsonl(rows, eol), 'jsonl');
      expect(taken).toBe(counts.input);
      expect(counts.byReason['filtered:duplicate']).toBeGreaterThan(50);
      expect(counts.byReason['filtered:too_long_chars']).toBeGreaterThan(50);
      expect(counts.byReason['filtered:empty']).toBeGreaterThan(0);
      await expectSameOutputs(withBom(toJsonl(rows, eol)), 'jsonl');
    }
    await expectSameOutputs(toJsonArray(rows), 'json');
    await expectSameOutputs(withBom(toJsonArray(rows, true)), 'json');
  });

  it.each([
    ['the defaults', {}],
    ['a short limit and a token limit', { prep: { filters: { maxChars: 12, maxTokens: 9 } } }],
    ['no empty or duplicate filter', { prep: { filters: { dropEmpty: false, dropDuplicates: false } } }],
    [
      'the fields template',
      { prep: { template: { kind: 'fields', promptField: 'instruction', completionField: 'output' } } },
    ],
    ["Nova's reserved words and token limits", { training: { baseModelId: 'amazon.nova-micro-v1:0:128k' } }],
  ])('over generated records, some wrong in one small way, under %s', async (_, config) => {
    let taken = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const lines = generatedLines(seed, 60);
      const body = Buffer.from(lines.join('\n') + '\n');
      const parsed = await transform(body, 'jsonl', config, false);
      const both = await transform(body, 'jsonl', config, true);
      if (
        JSON.stringify([both.kept, both.rejects, both.counts]) !==
        JSON.stringify([parsed.kept, parsed.rejects, parsed.counts])
      ) {
        // The first line that differs alone, for the failure's message; else the whole seed's outputs.
        for (const line of lines) {
          const one = Buffer.from(line + '\n');
          const p1 = await transform(one, 'jsonl', config, false);
          const b1 = await transform(one, 'jsonl', config, true);
          expect({ line, kept: b1.kept, rejects: b1.rejects }).toEqual({ line, kept: p1.kept, rejects: p1.rejects });
        }
        expect({ seed, kept: both.kept, rejects: both.rejects }).toEqual({
          seed,
          kept: parsed.kept,
          rejects: parsed.rejects,
        });
      }
      expect(countsBalance(both.counts)).toBe(true);
      taken += both.taken;
      // The same records that are JSON, as the elements of a JSON array.
      const elements = lines.filter((l) => {
        try {
          JSON.parse(l);
          return true;
        } catch {
          return false;
        }
      });
      await expectSameOutputs(`[\n${elements.join(',\n')}\n]`, 'json', config);
    }
    expect(taken).toBeGreaterThan(150 * 60 * 0.4); // the byte path decided most of them itself
  });

  it('a text over the token limit is dropped for it though the same normal form in other bytes is kept, either way', async () => {
    // The two outputs are one text after NFKC (a full-width Q and an ASCII one), but the full-width one is estimated
    // at more tokens: over the limit of 9, where the other is not. Its repeat after the other was kept is still dropped
    // for its tokens (the duplicate is looked up last), as it would be if the other were kept in another chunk.
    const wide = { instruction: 'é\\漢', output: '漢①〜\nＱ𠮷あ' };
    const narrow = { ...wide, output: '漢①〜\nQ𠮷あ' };
    const config = { prep: { filters: { maxChars: 12, maxTokens: 9 } } };
    const { taken, counts } = await expectSameOutputs(toJsonl([wide, narrow, wide, narrow]), 'jsonl', config);
    expect(taken).toBe(4);
    expect(counts).toMatchObject({
      kept: 1,
      byReason: { 'filtered:too_many_tokens': 2, 'filtered:duplicate': 1 },
    });
  });

  it('at exactly 1,500 code points and one over, with and without an input', async () => {
    const rows = [1499, 1500, 1501].flatMap((n, i) => [ofLength(n, i, false), ofLength(n, i + 10, true)]);
    for (const [i, r] of rows.entries())
      expect(
        [...(r.input ? `入力:${r.instruction}\n知識:${r.input}` : r.instruction)].length + [...r.output].length,
      ).toBe([1499, 1500, 1501][Math.floor(i / 2)]);
    const { taken, counts } = await expectSameOutputs(toJsonl(rows), 'jsonl');
    expect(taken).toBe(6);
    expect(counts).toMatchObject({ kept: 4, filtered: 2, byReason: { 'filtered:too_long_chars': 2 } });
  });

  it.each([
    ['a token limit', { prep: { filters: { maxTokens: 40 } } }],
    ['no empty or duplicate filter', { prep: { filters: { dropEmpty: false, dropDuplicates: false } } }],
    [
      'another prefix and a stratum',
      { prep: { template: { inputPrefix: 'Q:', knowledgeSeparator: ' / ' } }, split: { stratifyBy: 'index' } },
    ],
    [
      'the fields template',
      { prep: { template: { kind: 'fields', promptField: 'instruction', completionField: 'output' } } },
    ],
    ['the conversation format', { training: { baseModelId: 'amazon.nova-micro-v1:0:128k' } }],
    ['the prompt-completion format', { training: { baseModelId: 'amazon.titan-text-lite-v1:0:4k' } }],
    [
      'the input format',
      { training: { baseModelId: 'amazon.titan-text-lite-v1:0:4k', customizationType: 'CONTINUED_PRE_TRAINING' } },
    ],
    ['the Claude messages format', { training: { baseModelId: 'anthropic.claude-3-haiku-20240307-v1:0:200k' } }],
    ['a short limit', { prep: { filters: { maxChars: 40 } } }],
  ])('under %s', async (_, config) => {
    const body =
      toJsonl([...dollyLike(800, 7), ...malformedLines.map((l) => ({ line: l }))]) + malformedLines.join('\n') + '\n';
    const { taken } = await expectSameOutputs(body, 'jsonl', config);
    expect(taken).toBeGreaterThan(800);
  });

  it('across chunks of one run: what an earlier chunk kept is a duplicate in a later one, either way', async () => {
    const rows = dollyLike(400, 3);
    const chunks = [toJsonl(rows.slice(0, 200)), toJsonl(rows.slice(100))].map((s) => Buffer.from(s));
    const run = async (bytes: boolean, id: string) => {
      const out = [];
      for (const [chunk, body] of chunks.entries())
        out.push(await transform(body, 'jsonl', {}, bytes, { run: id, chunk }));
      return out;
    };
    const parsed = await run(false, 'parsed-run');
    const both = await run(true, 'bytes-run');
    for (const i of [0, 1]) {
      expect(both[i]!.taken).toBeGreaterThan(150);
      expect(both[i]!.kept).toEqual(parsed[i]!.kept);
      expect(both[i]!.rejects).toEqual(parsed[i]!.rejects);
      expect(both[i]!.counts).toEqual(parsed[i]!.counts);
    }
    expect(both[1]!.counts.byReason['filtered:duplicate']).toBeGreaterThanOrEqual(100);
  });

  it('a repeat is known by its bytes in any order, and a text of the same length in its place is not taken for it', async () => {
    // The byte path's memo first tries the text that followed the last record's the time before (a run of repeats in
    // the order they came), then any by its fingerprint; either way only the same bytes may match. Each text here
    // has a twin of the same length and layout, one character changed ('う' and 'え' are both three bytes in UTF-8),
    // and the twins come exactly where the repeat the memo expects would.
    const row = (i: number, index: number, last: string) => ({
      index: String(index),
      instruction: `質問${i}あい${last}`,
      input: i % 3 === 0 ? `文脈${i}` : '',
      output: `答え${i}`,
      category: 'open_qa',
    });
    const first = Array.from({ length: 50 }, (_, i) => row(i, i, 'う'));
    const again = (from: number) => first.map((r, i) => ({ ...r, index: String(from + i) }));
    const twins = first.map((r, i) => (i % 2 === 0 ? { ...r, index: String(300 + i) } : row(i, 300 + i, 'え')));
    const body = toJsonl([...first, ...again(100), ...twins, ...again(400).reverse(), ...again(500)]);
    const { taken, counts } = await expectSameOutputs(body, 'jsonl');
    expect(taken).toBe(250);
    expect(counts.kept).toBe(75);
    expect(counts.byReason['filtered:duplicate']).toBe(175);
  });

  it("a repeat's remembered verdict is its own chunk's: the same texts under another policy get that policy's", async () => {
    // The byte path remembers each text's verdict for its repeats, in a memo the module keeps across chunks and runs.
    // The same records (each twice) go through three chunks in turn, each with a limit that changes the verdicts.
    // Each way's chunks run one after another, as in one environment, so the byte path's run keeps its index of kept
    // texts from chunk to chunk (where a verdict noted for the run's later chunks would be seen again).
    const rows = dollyLike(300, 11);
    const body = Buffer.from(toJsonl([...rows, ...rows]));
    const limits = [1500, 60, 1500];
    const chunks = (bytes: boolean) =>
      limits.map(
        (maxChars, chunk) => () =>
          transform(body, 'jsonl', { prep: { filters: { maxChars } } }, bytes, {
            run: bytes ? 'verdicts-bytes' : 'verdicts-parsed',
            chunk,
          }),
      );
    const parsed = [];
    for (const t of chunks(false)) parsed.push(await t());
    const both = [];
    for (const t of chunks(true)) both.push(await t());
    for (const [i, b] of both.entries()) {
      expect(b.taken).toBeGreaterThan(500);
      expect(b.rejects).toEqual(parsed[i]!.rejects);
      expect(b.kept).toEqual(parsed[i]!.kept);
      expect(b.counts).toEqual(parsed[i]!.counts);
    }
  });
});

describeWithData(DOLLY)('the byte path and the parsed path on databricks-dolly-15k-ja', () => {
  it('give the same outputs, the byte path taking every record', async () => {
    const body = readFileSync(DOLLY);
    const { taken, counts } = await expectSameOutputs(body, 'jsonl');
    expect(counts.input).toBe(15015);
    expect(taken).toBe(15015);
  }, 60_000);
});
