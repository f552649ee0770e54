import { countsBalance } from '../../../shared/prep/counts';
import { TITAN_2024 } from '../../helpers/orchestration/fakes';
import { BAD_JSON_LINES, dollyRecord as rec, gzip, shiftJis, toDelimited, utf16le } from '../../helpers/prep/fixtures';
import { runPipeline } from '../../helpers/prep/pipeline';
import { SplitManifest } from '../../../shared/artifacts';
import { lengthBins } from '../../../shared/prep/stats';
import { currentPrepare, runCounts } from '../../../shared/runs/record';

const jsonl = (lines: string[]) => lines.join('\n') + '\n';

/** Given a malformed input, when it is prepared, then the error names the problem and where it is. */
describe('a broken or foreign-encoded file fails the run at ingest, saying what and where', () => {
  const failsWith = async (
    body: Buffer | string,
    key: string,
    pattern: RegExp,
    location: Record<string, unknown> = {},
    config?: Record<string, unknown>,
  ) => {
    const r = await runPipeline(body, key, config);
    expect(r.ingest.outcome).toBe('failed');
    expect(r.run?.status).toBe('failed');
    expect(r.run?.failure?.stage).toBe('ingest');
    expect(r.run?.failure?.reason).toMatch(pattern);
    expect(r.run?.failure?.location).toMatchObject({ file: `s3://datasets-bucket/${key}`, ...location });
    expect(r.published).toHaveLength(0); // nothing was queued
    return r;
  };

  it('Shift_JIS', () =>
    failsWith(
      shiftJis(jsonl([JSON.stringify(rec(1)), JSON.stringify(rec(2))])),
      'datasets/sjis.jsonl',
      /not valid UTF-8.*line 1.*Shift_JIS.*prep\.encoding/,
      { line: 1 },
    ));
  it('UTF-16 with a byte-order mark', () =>
    failsWith(
      utf16le(jsonl([JSON.stringify(rec(1))])),
      'datasets/u16.jsonl',
      /UTF-16LE.*byte-order mark.*prep\.encoding/,
    ));
  it('UTF-16 without a byte-order mark', () =>
    failsWith(utf16le(jsonl([JSON.stringify(rec(1))]), false), 'datasets/u16.jsonl', /UTF-16LE \(NUL bytes/));
  it('a truncated JSON array', () =>
    failsWith(
      JSON.stringify([rec(1), rec(2), rec(3)]).slice(0, -30),
      'datasets/cut.json',
      /element 2.*never closed: the file ends inside it/,
      { row: 2 },
    ));
  it('an unclosed quoted CSV field', () =>
    failsWith(
      'instruction,input,output\n"a,b,c\nd,e,f\n',
      'datasets/q.csv',
      /quoted field opened on line 2 is never closed/,
      { line: 2 },
    ));
  it('a CSV without the template columns', () =>
    failsWith('question,answer\nq,a\n', 'datasets/cols.csv', /column "instruction".*question, answer/, {
      field: 'instruction',
    }));
  it('an empty file', () => failsWith('', 'datasets/empty.jsonl', /empty/));
  it('a header and no rows', () =>
    failsWith('instruction,input,output\n', 'datasets/h.csv', /header but no data rows/));
  it('a broken gzip', () =>
    failsWith(gzip(jsonl([JSON.stringify(rec(1))])).subarray(0, 20), 'datasets/b.jsonl.gz', /gzip data is broken/));
  it('a Parquet file that is not one', () =>
    failsWith(Buffer.from('PAR1 this is not parquet'), 'datasets/x.parquet', /Parquet file cannot be read/));
  it('a sidecar that is not JSON', async () => {
    const { MemoryObjects } = await import('../../helpers/prep/memory');
    const objects = new MemoryObjects();
    objects.put('datasets-bucket', 'datasets/s.jsonl.run.json', '{ nope');
    const r = await runPipeline(jsonl([JSON.stringify(rec(1))]), 'datasets/s.jsonl', undefined, objects);
    expect(r.run?.failure?.reason).toMatch(/sidecar datasets\/s\.jsonl\.run\.json is not JSON/);
  });
  it('an invalid configuration', async () => {
    const r = await runPipeline(jsonl([JSON.stringify(rec(1))]), 'datasets/c.jsonl', {
      split: { whenShort: 'sometimes' },
    });
    expect(r.run?.failure?.reason).toMatch(/configuration is invalid: split\.whenShort: Invalid option/);
  });
});

describe('JSON Lines cut by ranges is checked by each transform', () => {
  it('bytes that are not UTF-8 deep in the file fail the run from its chunk, naming the line in the file', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify(rec(i)));
    const body = Buffer.from(jsonl(lines));
    const at = body.indexOf(Buffer.from('質問1499"')); // line 1500, past the head ingest reads (64 KiB)
    expect(at).toBeGreaterThan(64 * 1024);
    body[at] = 0xff;
    const r = await runPipeline(body, 'datasets/late.jsonl', { prep: { chunkBytes: 10_000 } });
    expect(r.ingest.outcome).toBe('planned'); // ingest read only the head, which is fine
    expect(currentPrepare(r.run!)?.plan?.chunks).toBeGreaterThan(5);
    expect(r.run?.status).toBe('failed');
    expect(r.run?.failure).toMatchObject({
      stage: 'transform',
      location: { file: 's3://datasets-bucket/datasets/late.jsonl', line: 1500 },
    });
    expect(r.run?.failure?.reason).toMatch(
      /not valid UTF-8: invalid byte sequence \(ff .*\) at line 1500, byte offset \d+/,
    );
    expect(r.published.filter((m) => m.queueUrl === 'q://submit')).toHaveLength(0);
  });
});

describe('a foreign encoding named in the configuration is converted', () => {
  it.each([
    ['shift_jis', (s: string) => shiftJis(s)],
    ['utf-16le', (s: string) => utf16le(s)],
  ] as Array<[string, (s: string) => Buffer]>)('%s', async (encoding, encode) => {
    const body = encode(jsonl(Array.from({ length: 30 }, (_, i) => JSON.stringify(rec(i)))));
    const r = await runPipeline(body, 'datasets/enc.jsonl', {
      prep: { encoding, chunkBytes: 200 },
      split: { train: 20, validation: 5, test: 5 },
    });
    expect(r.run?.status).toBe('submitting');
    expect(currentPrepare(r.run!)?.plan?.chunks).toBeGreaterThan(3);
    expect(runCounts(r.run!)).toMatchObject({ input: 30, kept: 30, train: 20, validation: 5, test: 5 });
    expect(r.prepared('train').join('\n')).toContain('答え');
  });
});

describe('bad records are rejected one by one with their reason and line; the counts still add up', () => {
  it('JSON Lines', async () => {
    const r = await runPipeline(jsonl([...BAD_JSON_LINES]), 'datasets/bad.jsonl', {
      split: { train: 1, validation: 1, test: 0 },
    });
    const c = runCounts(r.run!)!;
    expect(countsBalance(c)).toBe(true);
    expect(c).toMatchObject({ input: 8, kept: 2, rejected: 4, filtered: 2 });
    expect(c.byReason).toEqual({
      'rejected:not_json': 1,
      'rejected:missing_field': 1,
      'rejected:not_object': 1,
      'rejected:wrong_type': 1,
      'filtered:empty': 1,
      'filtered:duplicate': 1,
    });
    expect(r.rejects().map((x) => [x.line, x.reason])).toEqual([
      [2, 'rejected:not_json'],
      [3, 'rejected:missing_field'],
      [4, 'rejected:not_object'],
      [5, 'rejected:wrong_type'],
      [6, 'filtered:empty'],
      [7, 'filtered:duplicate'],
    ]);
    expect(r.rejects()[0]).toMatchObject({ line: 2, record: '{"instruction": "broken", ' });
    expect(r.manifest().source).toMatchObject({ bucket: 'datasets-bucket', key: 'datasets/bad.jsonl' }); // the file the lines are in
    expect(r.rejects()[1]).toMatchObject({ field: 'instruction', detail: 'field "instruction" is missing' });
  });

  it('JSON Lines cut by ranges: every reject names its line in the file, not in its chunk', async () => {
    const bad = [
      '{"instruction": "broken", ',
      JSON.stringify({ input: '', output: 'x' }),
      JSON.stringify(rec(5, { output: { nested: true } })),
      JSON.stringify(rec(6, { output: '   ' })),
      // Text that looks like what the line numbers are found by: it is inside a JSON string, so it is left alone.
      '{"instruction": "same text as line 3,\\"line\\":4", "nope": ',
    ];
    const lines = Array.from({ length: 60 }, (_, i) =>
      i % 7 === 3 ? bad[i % bad.length]! : JSON.stringify(rec(i % 9)),
    );
    const config = { split: { train: 3, validation: 1, test: 0 } };
    const one = await runPipeline(jsonl(lines), 'datasets/r.jsonl', { ...config, prep: { fanOut: 1 } });
    expect(currentPrepare(one.run!)?.plan?.chunks).toBe(1);
    for (const order of ['reverse', 'forward'] as const) {
      const many = await runPipeline(
        jsonl(lines),
        'datasets/r.jsonl',
        { ...config, prep: { chunkBytes: 400 } },
        undefined,
        order,
      );
      expect(currentPrepare(many.run!)?.plan?.chunks).toBeGreaterThan(8);
      expect(runCounts(many.run!)).toEqual(runCounts(one.run!));
      const byLine = (r: typeof one) => r.rejects().sort((a, b) => Number(a.line) - Number(b.line));
      expect(byLine(many)).toEqual(byLine(one));
    }
    expect(one.rejects().find((x) => x.line === 4)).toMatchObject({ reason: 'filtered:empty' });
    expect(one.rejects().find((x) => x.line === 10)).toMatchObject({
      reason: 'filtered:duplicate',
      detail: 'same text as line 1',
    });
    expect(one.rejects().find((x) => x.line === 25)).toMatchObject({
      reason: 'rejected:not_json',
      record: expect.stringContaining('same text as line 3,\\"line\\":4'),
    });
  });

  it('CSV rows with the wrong number of fields', async () => {
    const csv =
      toDelimited([rec(1), rec(2)] as never) +
      'only,three,fields\n' +
      toDelimited([rec(3)] as never).split('\n')[1] +
      '\n';
    const r = await runPipeline(csv, 'datasets/bad.csv', { split: { train: 2, validation: 1, test: 0 } });
    expect(runCounts(r.run!)).toMatchObject({ input: 4, kept: 3, rejected: 1, byReason: { 'rejected:bad_row': 1 } });
    expect(r.rejects()[0]).toMatchObject({ line: 4, detail: '3 fields where the header has 4' });
  });

  it('duplicates across chunks are found by split; the first by position stays, wherever the cut falls', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify(rec(i % 10, { index: String(i) })));
    const one = await runPipeline(jsonl(lines), 'datasets/d.jsonl', { split: { train: 6, validation: 2, test: 2 } });
    const many = await runPipeline(jsonl(lines), 'datasets/d.jsonl', {
      prep: { chunkBytes: 300 },
      split: { train: 6, validation: 2, test: 2 },
    });
    expect(currentPrepare(many.run!)?.plan?.chunks).toBeGreaterThan(5);
    for (const r of [one, many]) {
      expect(runCounts(r.run!)).toMatchObject({
        input: 40,
        kept: 10,
        filtered: 30,
        byReason: { 'filtered:duplicate': 30 },
      });
      expect(r.rejects()).toHaveLength(30);
    }
    expect(many.prepared('train')).toEqual(one.prepared('train'));
    // Each duplicate's reject line names the line of the record it repeats, found in its own chunk or by split.
    const byLine = (r: typeof one) =>
      r
        .rejects()
        .map((x) => [x.line, x.detail, 'record' in x])
        .sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(byLine(many)).toEqual(byLine(one));
    expect(byLine(one)).toEqual(
      Array.from({ length: 30 }, (_, i) => [i + 11, `same text as line ${(i % 10) + 1}`, false]),
    );
    expect(many.manifest().input.duplicatesAcrossChunks).toBe(30);
    // Chunks transformed in order by one environment: its later chunks drop what the earlier ones kept, so split has
    // none left to find, and the outcome is the same, the count of duplicates across chunks and the rejects' order
    // included.
    const forward = await runPipeline(
      jsonl(lines),
      'datasets/d.jsonl',
      { prep: { chunkBytes: 300 }, split: { train: 6, validation: 2, test: 2 } },
      undefined,
      'forward',
    );
    expect(forward.manifest().input.duplicatesAcrossChunks).toBe(30);
    expect(runCounts(forward.run!)).toEqual(runCounts(many.run!));
    expect(forward.rejects()).toEqual(many.rejects());
    expect(byLine(forward)).toEqual(byLine(one));
    for (const set of ['train', 'validation', 'test'] as const)
      expect(forward.prepared(set)).toEqual(one.prepared(set));
  });
});

describe('Parquet columns that are not text', () => {
  it('reads INT64 and numbers as text where the template needs text, and counts categories', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const buf = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'index', data: [1n, 2n, 3n], type: 'INT64' },
          { name: 'instruction', data: ['q1', 'q2', 'q3'], type: 'STRING' },
          { name: 'output', data: ['a1', 'a2', 'a3'], type: 'STRING' },
          { name: 'category', data: ['x', 'y', 'x'], type: 'STRING' },
        ],
      }),
    );
    const r = await runPipeline(buf, 'datasets/n.parquet', { split: { train: 2, validation: 1, test: 0 } });
    expect(runCounts(r.run!)).toMatchObject({ input: 3, kept: 3, train: 2, validation: 1 });
    expect(r.manifest().byCategory.eligible).toEqual({ x: 2, y: 1 });
  });
});

describe('fewer eligible records than asked', () => {
  const body = jsonl(Array.from({ length: 100 }, (_, i) => JSON.stringify(rec(i))));
  it('shrinks every set by one ratio and records a warning (the default)', async () => {
    const r = await runPipeline(body, 'datasets/few.jsonl');
    expect(runCounts(r.run!)).toMatchObject({ train: 90, validation: 9, test: 0 });
    expect(r.run!.warnings!.join()).toMatch(
      /only 100 eligible records for 10000 training \+ 1000 validation \+ 50 test.*shrunk/,
    );
    expect(r.manifest().warnings).toEqual(r.run!.warnings);
  });
  it('fails the run when the configuration says so', async () => {
    const r = await runPipeline(body, 'datasets/few.jsonl', { split: { whenShort: 'fail' } });
    expect(r.run).toMatchObject({
      status: 'failed',
      failure: { stage: 'split', reason: expect.stringMatching(/only 100 eligible/) },
    });
    expect(countsBalance(runCounts(r.run!)!)).toBe(true);
  });
});

describe('the manifest carries the length histogram the report draws', () => {
  it('counts every record in a set by its length in code points, and the ones dropped for length past the limit', async () => {
    const lines = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify(rec(i, { output: '答'.repeat((i * 7) % 130) + '𠮷' })),
    );
    // Titan's prompt/completion records: their text is read back below.
    const r = await runPipeline(jsonl(lines), 'datasets/h.jsonl', {
      ...TITAN_2024,
      prep: { filters: { maxChars: 100 }, chunkBytes: 800 },
      split: { train: 30, validation: 10, test: 5 },
    });
    const h = r.manifest().lengthHistogram;
    const dropped = runCounts(r.run!)!.byReason['filtered:too_long_chars']!;
    expect(dropped).toBeGreaterThan(0);
    const prepared = ['train', 'validation', 'test']
      .flatMap((s) => r.prepared(s as 'train'))
      .map((l) => JSON.parse(l) as { prompt: string; completion: string });
    expect(h.bins).toEqual(
      lengthBins(
        prepared.map((p) => [...(p.prompt + p.completion)].length),
        100,
        dropped,
      ),
    );
    expect(h.bins.reduce((s, b) => s + b.count, 0)).toBe(45 + dropped);
    expect(SplitManifest.parse(r.manifest()).lengthHistogram).toMatchObject({ limit: 100, bins: h.bins });
  });
});
