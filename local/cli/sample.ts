/**
 * `npm run sample [-- --out <dir>]`: writes the project's generated samples, for running the examples without the
 * real data sets: `sample-dolly-ja.jsonl` (databricks-dolly-15k-ja's schema) and `sample-jawiki.jsonl` (long Japanese
 * documents in a Japanese Wikipedia corpus's schema, for continued pre-training). Deterministic.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sampleCorpusJsonl, sampleJsonl } from '../sample/generate';

const { values } = parseArgs({ options: { out: { type: 'string', default: '.local/samples' } } });
const out = path.resolve(values.out);
mkdirSync(out, { recursive: true });
for (const [name, text] of [
  ['sample-dolly-ja.jsonl', sampleJsonl(400)],
  ['sample-jawiki.jsonl', sampleCorpusJsonl(200)],
] as const) {
  writeFileSync(path.join(out, name), text);
  console.log(`wrote ${path.join(out, name)}`);
}
