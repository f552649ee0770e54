/**
 * `node --import tsx bench/readers.ts <dolly.jsonl>`: the hand-written readers of CSV and JSON arrays
 * (shared/prep/scan.ts's splitters, csv.ts's row parser) against the libraries made for the job, csv-parse and
 * stream-json, on the same bytes: the data set written as CSV and as a JSON array. One JSON line per job, the best of
 * ROUNDS runs of each reader, the two taking turns: MB/s of each and how many times faster the hand-written one is.
 *
 * The jobs are the pipeline's: ingest reads the whole file once to cut it on record boundaries (it needs each record's
 * byte offset, which neither library gives: csv-parse counts bytes read, stream-json nothing), and transform turns each
 * record of its chunk into fields or a value. The libraries are measured doing the least that would serve: csv-parse
 * with `info` (its line and byte counts, for the locations), stream-json's array streamer (it has no mode that finds
 * elements without assembling them). Speed aside, a JSON array's later chunks start inside the array, after a comma,
 * which no JSON parser takes as a document, and transform's byte path reads each element's bytes, which an assembled
 * value no longer has.
 */
import { readFileSync } from 'node:fs';
import { Readable, type Duplex } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { parseDelimited } from '../shared/prep/csv';
import { makeSplitter, type RawRecord, type TextFormat } from '../shared/prep/scan';
import { toDelimited, toJsonArray, type Row } from '../test/helpers/prep/fixtures';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const PIECE = 64 * 1024; // what a file or S3 stream hands over at a time

const pieces = (b: Buffer) =>
  Array.from({ length: Math.ceil(b.length / PIECE) }, (_, i) => b.subarray(i * PIECE, (i + 1) * PIECE));

/** The hand-written way: the splitter over the pieces, `each` on every record. Returns the records seen. */
function splitter(format: TextFormat, parts: Buffer[], each?: (r: RawRecord) => void): number {
  const s = makeSplitter(format, { mode: 'file', last: true, file: 'bench' });
  let n = 0;
  const on = (r: RawRecord) => {
    n++;
    each?.(r);
  };
  for (const p of parts) s.push(p, on);
  s.end(on);
  return n;
}

async function count(stream: NodeJS.ReadableStream): Promise<number> {
  let n = 0;
  for await (const _ of stream) n++;
  return n;
}

const csvParse = (parts: Buffer[]) =>
  count(Readable.from(parts).pipe(parseCsv({ info: true, relax_column_count: true })));
/**
 * stream-json's array streamer, loaded by name: the project's `moduleResolution: node` does not read the package's
 * subpath exports, so its type is written here.
 */
const STREAM_ARRAY = 'stream-json/streamers/stream-array.js';
let streamArray: { withParserAsStream(): Duplex };
const jsonArray = (parts: Buffer[]) => count(Readable.from(parts).pipe(streamArray.withParserAsStream()));

const jobs: Array<{
  job: string;
  format: TextFormat;
  ours: (p: Buffer[]) => number;
  library: [string, (p: Buffer[]) => Promise<number>];
}> = [
  {
    job: 'CSV, record boundaries (ingest)',
    format: 'csv',
    ours: (p) => splitter('csv', p),
    library: ['csv-parse', csvParse],
  },
  {
    job: 'CSV, records to fields (transform)',
    format: 'csv',
    ours: (p) => splitter('csv', p, (r) => parseDelimited(r.bytes.toString('utf8'), ',')),
    library: ['csv-parse', csvParse],
  },
  {
    job: 'JSON array, element boundaries (ingest)',
    format: 'json',
    ours: (p) => splitter('json', p),
    library: ['stream-json', jsonArray],
  },
  {
    job: 'JSON array, elements to values (transform)',
    format: 'json',
    ours: (p) => splitter('json', p, (r) => JSON.parse(r.bytes.toString('utf8'))),
    library: ['stream-json', jsonArray],
  },
];

(async () => {
  const file = process.argv[2];
  if (!file) throw new Error('usage: readers.ts <records.jsonl>');
  streamArray = ((await import(STREAM_ARRAY)) as { default: typeof streamArray }).default;
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
  const bodies = { csv: Buffer.from(toDelimited(rows)), json: Buffer.from(toJsonArray(rows)) } as Record<
    TextFormat,
    Buffer
  >;
  for (const { job, format, ours, library } of jobs) {
    const body = bodies[format];
    const parts = pieces(body);
    const best = { ours: Infinity, library: Infinity };
    const records = { ours: 0, library: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      let t = performance.now();
      records.ours = ours(parts);
      best.ours = Math.min(best.ours, performance.now() - t);
      t = performance.now();
      records.library = await library[1](parts);
      best.library = Math.min(best.library, performance.now() - t);
    }
    // Both count every record, the CSV header included: they must agree.
    if (records.ours !== records.library)
      throw new Error(`${job}: ${records.ours} records by the splitter, ${records.library} by ${library[0]}`);
    const mbps = (ms: number) => Math.round((body.length / 1e6 / (ms / 1000)) * 10) / 10;
    process.stdout.write(
      JSON.stringify({
        case: `readers: ${job}`,
        bytes: body.length,
        records: records.ours,
        handWrittenMBPerSecond: mbps(best.ours),
        library: library[0],
        libraryMBPerSecond: mbps(best.library),
        timesFaster: Math.round((best.library / best.ours) * 10) / 10,
      }) + '\n',
    );
  }
})().catch((err) => {
  process.stdout.write(JSON.stringify({ case: 'readers', error: (err as Error).stack }) + '\n');
  process.exit(1);
});
