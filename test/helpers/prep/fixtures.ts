import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { parquetWriteBuffer } from 'hyparquet-writer';

/** The shared data sets live beside the project (`<projectRoot>/../shared/data`); tests that need them skip visibly. */
export const SHARED_DATA = path.resolve(__dirname, '../../../../shared/data');
export const DOLLY = path.join(SHARED_DATA, 'databricks-dolly-15k-ja.jsonl');
export const JAWIKI = path.join(SHARED_DATA, 'jawiki_corpus.jsonl');

export function describeWithData(file: string): jest.Describe {
  if (existsSync(file)) return describe;
  console.warn(`SKIPPED: ${file} is absent; the tests that need it do not run`);
  return describe.skip;
}

export type Row = Record<string, string> & { instruction: string; input: string; output: string; category: string };

export const readJsonl = (file: string): Row[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);

export const toJsonl = (rows: readonly object[], eol = '\n') => rows.map((r) => JSON.stringify(r)).join(eol) + eol;
export const toJsonArray = (rows: readonly object[], pretty = false) =>
  JSON.stringify(rows, null, pretty ? 2 : undefined);

const quote = (v: string, delimiter: string) =>
  /[",\n\r\t]/.test(v) || v.includes(delimiter) ? `"${v.replace(/"/g, '""')}"` : v;
export function toDelimited(rows: readonly Row[], delimiter = ',', eol = '\n'): string {
  const cols = Object.keys(rows[0]!);
  return (
    [cols.join(delimiter), ...rows.map((r) => cols.map((c) => quote(r[c] ?? '', delimiter)).join(delimiter))].join(
      eol,
    ) + eol
  );
}

export function toParquet(rows: readonly Row[], rowGroupSize = 2000): Buffer {
  const cols = Object.keys(rows[0]!);
  const ab = parquetWriteBuffer({
    columnData: cols.map((name) => ({ name, data: rows.map((r) => r[name] ?? ''), type: 'STRING' as const })),
    rowGroupSize,
  });
  return Buffer.from(ab);
}

export const gzip = (b: Buffer | string) => gzipSync(typeof b === 'string' ? Buffer.from(b) : b);
export const withBom = (s: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s)]);
export const shiftJis = (s: string) => iconv.encode(s, 'shift_jis');
export const utf16le = (s: string, bom = true) => iconv.encode(s, 'utf-16le', { addBOM: bom });

/** A small dolly record, numbered. */
export const dollyRecord = (i: number, extra: Record<string, unknown> = {}) => ({
  instruction: `質問${i}`,
  input: '',
  output: `答え${i}`,
  category: 'open_qa',
  ...extra,
});

/**
 * JSON Lines with one bad record of each kind, lines 2-7: not JSON, a missing field, not an object, a field of the
 * wrong type, an empty output, a duplicate of line 1.
 */
export const BAD_JSON_LINES: readonly string[] = [
  JSON.stringify(dollyRecord(1)),
  '{"instruction": "broken", ',
  JSON.stringify({ input: '', output: 'x' }),
  '[1,2]',
  JSON.stringify(dollyRecord(5, { output: { nested: true } })),
  JSON.stringify(dollyRecord(6, { output: '   ' })),
  JSON.stringify(dollyRecord(1)),
  JSON.stringify(dollyRecord(8)),
];
